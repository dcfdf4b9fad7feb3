package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

func TestMigrate_CreatesMissingDatabaseAndIsIdempotent(t *testing.T) {
	// A database name nobody has made yet: migrate must create it.
	url := testkit.NewDatabase(t)
	admin, err := db.Open(testkit.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the database is dropped before admin closes (a
	// deferred Close ran before the drop, which then failed and left it behind).
	t.Cleanup(func() { admin.Close() })
	name := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	missing := name + "_fresh"
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+missing+" WITH (FORCE)")
	})
	t.Setenv("DATABASE_URL", testkit.DatabaseURL(testkit.BaseURL(), missing))

	var out, errOut bytes.Buffer
	if err := run([]string{"migrate"}, &out, &errOut); err != nil {
		t.Fatalf("first migrate: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "migrations applied") {
		t.Errorf("first migrate applied nothing: %s", errOut.String())
	}
	errOut.Reset()
	if err := run([]string{"migrate"}, &out, &errOut); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if strings.Contains(errOut.String(), "migrations applied") {
		t.Errorf("second migrate applied something: %s", errOut.String())
	}
	fresh, err := db.Open(testkit.DatabaseURL(testkit.BaseURL(), missing))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var channels, templates int
	_ = fresh.NewRaw("SELECT count(*) FROM channels WHERE id = 1 AND name = 'WHATSAPP'").Scan(t.Context(), &channels)
	_ = fresh.NewRaw("SELECT count(*) FROM templates WHERE id IN (1, 2) AND company_id IS NULL").Scan(t.Context(), &templates)
	if channels != 1 || templates != 2 {
		t.Errorf("reference data: channels=%d templates=%d", channels, templates)
	}
}

func TestMigrate_ConcurrentStartsDoNotCorrupt(t *testing.T) {
	url := testkit.NewDatabase(t)
	bdb, err := db.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	// Wipe the cloned schema so both runs start from nothing.
	if _, err := bdb.ExecContext(t.Context(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			c, err := db.Open(url)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_, err = db.Migrate(context.Background(), c)
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	// Each migration is recorded once, however many instances ran it.
	ups, _ := fs.Glob(db.MigrationFiles(), "*.up.sql")
	var n int
	_ = bdb.NewRaw("SELECT count(*) FROM bun_migrations").Scan(t.Context(), &n)
	if n != len(ups) {
		t.Errorf("bun_migrations rows = %d, want %d", n, len(ups))
	}
}

func TestSeed_TwiceDuplicatesNothing(t *testing.T) {
	url := testkit.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	counts := func() map[string]int {
		bdb, err := db.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer bdb.Close()
		out := map[string]int{}
		for _, table := range []string{"companies", "users", "conversations", "messages"} {
			var n int
			if err := bdb.NewRaw("SELECT count(*) FROM "+table).Scan(t.Context(), &n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	var out bytes.Buffer
	if err := run([]string{"seed"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "demo@connectme.local") {
		t.Errorf("seed does not print the login: %s", out.String())
	}
	first := counts()
	if first["messages"] == 0 || first["conversations"] < 3 {
		t.Fatalf("seed made too little: %v", first)
	}
	if err := run([]string{"seed"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if second := counts(); second["companies"] != first["companies"] || second["users"] != first["users"] ||
		second["conversations"] != first["conversations"] || second["messages"] != first["messages"] {
		t.Errorf("second seed changed counts: %v -> %v", first, second)
	}
}

func TestHelp_ListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"DATABASE_URL", "PORT", "JWT_SECRET", "JWT_TTL", "APP_ENV", "PUBLIC_BASE_URL",
		"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "MEDIA_DIR", "AUTH_RATE_LIMIT", "serve", "migrate", "seed"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
	if err := run([]string{"bogus"}, &out, &out); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestProduction_RefusesToStartWithoutSecrets(t *testing.T) {
	t.Setenv("APP_ENV", "production")
	t.Setenv("JWT_SECRET", "short")
	err := run([]string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") || !strings.Contains(err.Error(), "PUBLIC_BASE_URL") {
		t.Fatalf("production start without secrets: %v", err)
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe_ProductionStartLogShowsTheConfigurationWithoutSecrets(t *testing.T) {
	dsn, err := url.Parse(testkit.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	// Local PostgreSQL trusts the connection, so a password is accepted and unused.
	dsn.User = url.UserPassword("postgres", "db-password-secret")
	secrets := map[string]string{
		"JWT_SECRET":        "jwt-secret-jwt-secret-jwt-secret-42",
		"TWILIO_AUTH_TOKEN": "twilio-auth-token-secret",
		"MEDIA_SIGNING_KEY": "media-signing-key-media-signing-key-42",
		"METRICS_TOKEN":     "metrics-token-secret",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("DATABASE_URL", dsn.String())
	t.Setenv("APP_ENV", "production")
	t.Setenv("PUBLIC_BASE_URL", "https://inbox.example.com")
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
	t.Setenv("TWILIO_API_BASE", "http://127.0.0.1:9")
	t.Setenv("LISTEN_ADDR", "127.0.0.1:0")
	t.Setenv("MEDIA_DIR", t.TempDir())

	var logged syncBuffer
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve"}, io.Discard, &logged) }()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logged.String(), `"msg":"listening"`); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, logged.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logged.String())
		}
	}
	// SIGTERM is the graceful stop; run's signal handler is registered by now.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}

	out := logged.String()
	for k, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("the log shows %s", k)
		}
	}
	if strings.Contains(out, "db-password-secret") {
		t.Error("the log shows the database password")
	}
	for _, want := range []string{`"msg":"configuration"`, `"APP_ENV":"production"`, `"JWT_SECRET":"***"`,
		`"PLAYGROUND":false`, `"GRAPHQL_INTROSPECTION":false`, `postgres:***@`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}
