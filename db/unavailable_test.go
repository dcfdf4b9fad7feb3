package db_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

func TestIsUnavailable_ConnectionErrorsButNotQueryErrors(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", dial, true},
		{"wrapped connection refused", fmt.Errorf("list conversations: %w", dial), true},
		{"cut mid-query", io.EOF, true},
		{"cut mid-message", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"bad conn", driver.ErrBadConn, true},
		{"our deadline", fmt.Errorf("claim: %w", context.DeadlineExceeded), true},
		{"client went away", context.Canceled, false},
		{"not found", db.ErrNotFound, false},
		{"application error", apperr.New(apperr.Forbidden, "no"), false},
		{"anything else", errors.New("boom"), false},
	}
	for _, tc := range cases {
		if got := db.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestIsUnavailable_ServerErrors(t *testing.T) {
	bdb := testkit.DB(t)
	ctx := t.Context()
	_, err := bdb.ExecContext(ctx, "SELECT 1/0")
	if err == nil || db.IsUnavailable(err) {
		t.Errorf("division by zero: IsUnavailable(%v) = true, want a plain query error", err)
	}
	// A backend terminated by an administrator answers 57P01 (admin_shutdown), which
	// is what clients see while PostgreSQL shuts down.
	conn, err := bdb.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
	if err == nil || !db.IsUnavailable(err) {
		t.Errorf("terminated backend: IsUnavailable(%v) = false, want true", err)
	}
}

func TestOpen_ReplacesPooledConnectionsTheServerClosed(t *testing.T) {
	bdb := testkit.DB(t)
	bdb.SetMaxOpenConns(1)
	ctx := t.Context()
	var pid int
	if err := bdb.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Open(testkit.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	// Wait until the backend is gone, so its socket is closed for sure.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := admin.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminated backend did not go away")
		}
	}
	// The pool's only connection is dead; the next query must not fail on it.
	var again int
	if err := bdb.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &again); err != nil {
		t.Fatalf("query after the server closed the pooled connection: %v", err)
	}
	if again == pid {
		t.Errorf("still on backend %d", pid)
	}
}
