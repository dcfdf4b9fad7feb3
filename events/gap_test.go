package events_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
)

// runBus starts a bus on bdb and waits until it listens and has told its first
// gap (the one before the first LISTEN). The bus reports itself healthy just
// before it tells that gap, so a watcher registered as soon as it is healthy
// could be told of it too: a test counting gaps must register after it.
func runBus(t *testing.T, bdb *bun.DB) *events.Bus {
	t.Helper()
	bus := events.NewBus(bdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	first := make(chan struct{}, 1)
	stopFirst := bus.OnGap(func() {
		select {
		case first <- struct{}{}:
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("the bus did not tell the gap before its first LISTEN")
	}
	stopFirst()
	waitFor(t, 10*time.Second, "the bus connects", func() bool { ok, _ := bus.Healthy(); return ok })
	return bus
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

// listenerPID returns the backend of the bus's LISTEN connection, or 0.
func listenerPID(t *testing.T, bdb *bun.DB) int {
	var pid int
	err := bdb.NewRaw("SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").
		Scan(t.Context(), &pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// Losing the LISTEN connection is a gap: once the listener is back (within a
// second or two), every watcher registered then is told, once; a watcher that has
// stopped is not.
func TestBus_LostListenConnectionIsToldToWatchersOnReconnect(t *testing.T) {
	bdb := testkit.DB(t)
	bus := runBus(t, bdb)
	told := make(chan struct{}, 4)
	stop := bus.OnGap(func() { told <- struct{}{} })
	defer stop()
	gone := make(chan struct{}, 4)
	stopGone := bus.OnGap(func() { gone <- struct{}{} })
	stopGone()

	old := listenerPID(t, bdb)
	if old == 0 {
		t.Fatal("no LISTEN connection found")
	}
	killed := time.Now()
	if _, err := bdb.ExecContext(t.Context(), "SELECT pg_terminate_backend(?)", old); err != nil {
		t.Fatal(err)
	}
	select {
	case <-told:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher was not told of the gap")
	}
	if d := time.Since(killed); d > 2*time.Second {
		t.Errorf("the listener came back %s after the kill, want within 2s", d)
	}
	if ok, why := bus.Healthy(); !ok {
		t.Errorf("told of the gap before the listener is back: %s", why)
	}
	waitFor(t, 5*time.Second, "a new LISTEN connection", func() bool {
		pid := listenerPID(t, bdb)
		return pid != 0 && pid != old
	})
	select {
	case <-gone:
		t.Error("a stopped watcher was told")
	default:
	}
	select {
	case <-told:
		t.Error("one gap was told twice")
	default:
	}
}

// Before the first LISTEN every notification is lost too: a watcher registered
// then is told once the listener connects.
func TestBus_WatcherRegisteredBeforeTheFirstConnectIsTold(t *testing.T) {
	bdb := testkit.DB(t)
	bus := events.NewBus(bdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	told := make(chan struct{}, 4)
	stop := bus.OnGap(func() { told <- struct{}{} })
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-told:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher was not told when the listener first connected")
	}
	if ok, why := bus.Healthy(); !ok {
		t.Errorf("told before the listener connected: %s", why)
	}
}
