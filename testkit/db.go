// Package testkit is the shared test helper: a fresh PostgreSQL database per test
// (cloned from a migrated template, so it is fast), one-line fixtures, and the whole
// server behind httptest. It never skips: without PostgreSQL the tests fail and say
// how to start it.
package testkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
)

// BaseURL returns the PostgreSQL server tests use: TEST_DATABASE_URL, or the
// machine's local server.
func BaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

const startHint = "PostgreSQL is unreachable at %s: %v\n" +
	"Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n" +
	"(or point TEST_DATABASE_URL at a server where the user may CREATE DATABASE)"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// DatabaseURL returns base with its database replaced by name.
func DatabaseURL(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// templateDB makes (once per process, and once per schema across processes) a
// migrated database to clone. Its name carries a hash of the migrations, so a
// changed schema gets a new template.
func templateDB(ctx context.Context) (string, error) {
	templateOnce.Do(func() {
		h := sha256.New()
		_ = fs.WalkDir(db.MigrationFiles(), ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(db.MigrationFiles(), p)
				h.Write([]byte(p))
				h.Write(b)
			}
			return nil
		})
		templateName = "connectme_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
		admin, err := db.Open(BaseURL())
		if err != nil {
			templateErr = err
			return
		}
		defer admin.Close()
		conn, err := admin.Conn(ctx)
		if err != nil {
			templateErr = err
			return
		}
		defer conn.Close()
		// Test binaries of several packages run at once: one builds the template.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
			templateErr = fmt.Errorf(startHint, BaseURL(), err)
			return
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(4242)") //nolint:errcheck
		var exists bool
		if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", templateName).Scan(&exists); err != nil {
			templateErr = err
			return
		}
		if exists {
			return
		}
		building := templateName + "_build"
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building)
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
			templateErr = err
			return
		}
		tdb, err := db.Open(DatabaseURL(BaseURL(), building))
		if err != nil {
			templateErr = err
			return
		}
		_, err = db.Migrate(ctx, tdb)
		tdb.Close()
		if err != nil {
			templateErr = err
			return
		}
		_, templateErr = conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+templateName)
	})
	return templateName, templateErr
}

// NewDatabase creates a fresh, migrated database for one test, returns its URL and
// drops it when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := db.Open(BaseURL())
	if err != nil {
		t.Fatalf(startHint, BaseURL(), err)
	}
	defer admin.Close()
	if err := db.Ping(ctx, admin); err != nil {
		t.Fatalf(startHint, BaseURL(), err)
	}
	tpl, err := templateDB(ctx)
	if err != nil {
		t.Fatalf("build the template database: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "connectme_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tpl); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := db.Open(BaseURL())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return DatabaseURL(BaseURL(), name)
}

// DB returns a connection to a fresh, migrated database for one test.
func DB(t testing.TB) *bun.DB {
	t.Helper()
	bdb, err := db.Open(NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	return bdb
}
