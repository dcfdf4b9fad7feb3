// Package db holds CONNECTME's Bun models, its embedded SQL migrations and every
// query the product runs. Every query that reads company data takes the company id.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_lock key that serialises migrations across
// instances starting at once ("CONNECTME" in ASCII, folded into an int64).
const migrationLockKey = 0x434f4e4e4543544d

// ErrNotFound is returned by lookups that match no row (or no row of the company).
var ErrNotFound = errors.New("not found")

// Driver timeouts. The DSN may override them (dial_timeout, read_timeout).
const (
	// DialTimeout is short so that, with the database gone, requests fail with 503
	// at once instead of waiting on a connect that cannot succeed (pgdriver's
	// default is 5 s).
	DialTimeout = 3 * time.Second
	// ReadTimeout bounds one statement; requests carry their own shorter deadline
	// (REQUEST_TIMEOUT), which pgdriver applies when it comes first.
	ReadTimeout = 30 * time.Second
)

// Open connects to PostgreSQL and sizes the pool for a busy server. A pooled
// connection is checked before it is reused (a peek at its socket, no round trip),
// so after an outage the first requests do not fail on connections the server
// closed meanwhile.
//
// The connections start with SessionDefaults (startup parameters) that the DSN does
// not set itself.
func Open(dsn string) (*bun.DB, error) {
	connector := pgdriver.NewConnector(
		pgdriver.WithDialTimeout(DialTimeout),
		pgdriver.WithReadTimeout(ReadTimeout),
		pgdriver.WithDSN(withSessionDefaults(dsn)),
		pgdriver.WithResetSessionFunc(func(_ context.Context, cn *pgdriver.Conn) error {
			if !alive(cn.Conn()) {
				return driver.ErrBadConn
			}
			return nil
		}),
	)
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns()), nil
}

// SessionDefaults are the settings of every connection's session, sent as startup
// parameters. A DSN that names one keeps its own value (…&enable_memoize=on), and
// an empty value sends none (behind a pooler that refuses unknown startup
// parameters, such as PgBouncer without ignore_startup_parameters, set them on the
// role instead: ALTER ROLE connectme SET enable_memoize = off).
//
// enable_memoize=off: PostgreSQL 15 puts a Memoize node (a cache of a parameterized
// inner side) under the lateral joins of an inbox page whenever it cannot tell that
// the page's conversation ids are distinct — a label's page, read from label rows,
// got three, each a cache built and missed 21 times a page. Without them a label's
// page cost PostgreSQL 0.42-0.48 ms instead of 0.67-0.68, and the unfiltered page
// 0.46-0.51 instead of 0.55-0.58 (pgbench, prepared, BENCHMARKS.md). Our statements read
// pages of at most a hundred rows, where the cache never pays.
var SessionDefaults = map[string]string{"enable_memoize": "off"}

// withSessionDefaults returns dsn with SessionDefaults added as query parameters
// (pgdriver sends the parameters it does not know as startup parameters), those
// the DSN sets kept, and empty ones removed.
func withSessionDefaults(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgdriver reports it
	}
	q := u.Query()
	for k, v := range SessionDefaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
		if q.Get(k) == "" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// EnsureDatabase creates the database named in dsn when it does not exist, by
// connecting to the server's "postgres" database.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return errors.New("DATABASE_URL names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	adb, err := Open(admin.String())
	if err != nil {
		return err
	}
	defer adb.Close()
	var exists bool
	if err := adb.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s: %w", u.Host, err)
	}
	if exists {
		return nil
	}
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+pgQuoteIdent(name)); err != nil {
		// Another instance may have created it a moment ago.
		var pgErr pgdriver.Error
		if errors.As(err, &pgErr) && pgErr.Field('C') == "42P04" {
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func pgQuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Migrate applies every pending migration. It holds a PostgreSQL advisory lock for
// the whole run, so instances starting together take turns, and a crashed run leaves
// no stale lock behind. Running it again is a no-op.
func Migrate(ctx context.Context, bdb *bun.DB) ([]string, error) {
	conn, err := bdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", int64(migrationLockKey)); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", int64(migrationLockKey)) //nolint:errcheck

	migrations := migrate.NewMigrations()
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := migrations.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrate: discover: %w", err)
	}
	m := migrate.NewMigrator(bdb, migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: init: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, mig := range group.Migrations {
		applied = append(applied, mig.Name)
	}
	return applied, nil
}

// Ping reports whether the database answers within the context's deadline.
func Ping(ctx context.Context, bdb *bun.DB) error {
	_, err := bdb.ExecContext(ctx, "SELECT 1")
	return err
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation.
func IsUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

// MigrationFiles returns the embedded migrations (tests hash them to name templates).
func MigrationFiles() fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations")
	return sub
}

// ErrForeign is returned when a row exists but belongs to another company. Callers
// turn it into FORBIDDEN (REST 403) without saying whether the row exists.
var ErrForeign = errors.New("belongs to another company")
