package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/app"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
)

// Secret is the JWT secret of test apps.
var Secret = []byte("test-secret-test-secret-test-secret!")

// App is the whole server on a fresh database, behind httptest, built by app.New as
// the binary builds it: delivery and the media fetcher run too.
type App struct {
	T        testing.TB
	DB       *bun.DB
	Config   *config.Config
	Resolver *resolvers.Resolver
	Server   *httptest.Server
	// Clock is the time the app sees; tests move it.
	Clock *Clock
	// Shutdown starts the graceful shutdown of the app (websockets, background work,
	// event bus), as SIGTERM does in the binary.
	Shutdown func()
	// Bus is the app's event bus.
	Bus *events.Bus
	// Metrics holds the app's collectors (served at /metrics).
	Metrics *metrics.Metrics
	// App is the application itself.
	App *app.App
}

// Clock is a settable clock.
type Clock struct{ t atomicTime }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.t.Load() }

// Set moves the clock.
func (c *Clock) Set(t time.Time) { c.t.Store(t) }

// Option changes an App's configuration before it starts.
type Option func(*config.Config)

// With is how NewAppWith builds an App beyond its configuration; the zero value is
// NewApp's choice for each.
type With struct {
	// DB is the database; nil makes a fresh one.
	DB *bun.DB
	// Provider sends the app's messages; nil is the development provider (as the
	// binary without Twilio credentials), which answers every send "sent".
	Provider delivery.Provider
	// Log receives the app's log; nil discards it below errors, or writes it all to
	// stderr when CONNECTME_TEST_LOG is set.
	Log *slog.Logger
	// PollInterval is how often delivery and the media fetcher poll; 0 keeps their
	// defaults.
	PollInterval time.Duration
	// Options change the configuration.
	Options []Option
}

// NewApp starts the server on a fresh database.
func NewApp(t testing.TB, opts ...Option) *App {
	t.Helper()
	return NewAppWith(t, With{Options: opts})
}

// NewAppOn starts another server instance on an existing database (several
// instances behind one load balancer share one database).
func NewAppOn(t testing.TB, bdb *bun.DB, opts ...Option) *App {
	t.Helper()
	return NewAppWith(t, With{DB: bdb, Options: opts})
}

// NewAppWith starts the server as w says.
func NewAppWith(t testing.TB, w With) *App {
	t.Helper()
	if w.DB == nil {
		w.DB = DB(t)
	}
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "JWT_SECRET":
			return string(Secret)
		case "APP_ENV":
			return "test"
		case "AUTH_RATE_LIMIT":
			return "0"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.MediaDir = t.TempDir()
	for _, o := range w.Options {
		o(cfg)
	}
	clock := &Clock{}
	clock.Set(time.Now().UTC())
	log := w.Log
	if log == nil {
		log = logging.New(io.Discard, slog.LevelError)
		if os.Getenv("CONNECTME_TEST_LOG") != "" {
			log = logging.New(os.Stderr, slog.LevelDebug)
		}
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: w.DB, Log: log, Now: clock.Now, Provider: w.Provider,
		PollInterval: w.PollInterval})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	srv := httptest.NewServer(a.Handler)
	shutdown := func() {
		if err := a.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(func() {
		shutdown()
		srv.Close()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := a.Bus.Healthy(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event listener did not connect")
		}
	}
	return &App{T: t, DB: w.DB, Config: cfg, Resolver: a.Resolver, Server: srv, Clock: clock, Shutdown: shutdown,
		Bus: a.Bus, Metrics: a.Metrics, App: a}
}

// Token returns a valid bearer token for the agent.
func (a *App) Token(u interface{ GetIDs() (int64, int64) }) string {
	uid, cid := u.GetIDs()
	tok, _, err := a.Resolver.Tokens.Issue(uid, cid, "AGENT")
	if err != nil {
		a.T.Fatal(err)
	}
	return tok
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.Body)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON).
func (a *App) Do(method, path, token string, body any, headers ...string) *Response {
	a.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			a.T.Fatal(err)
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, a.Server.URL+path, rd)
	if err != nil {
		a.T.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.Server.Client().Do(req)
	if err != nil {
		a.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.T.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// GraphQLResult is a GraphQL response.
type GraphQLResult struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// Code returns the first error's extensions.code, or "".
func (g *GraphQLResult) Code() string {
	if len(g.Errors) == 0 {
		return ""
	}
	c, _ := g.Errors[0].Extensions["code"].(string)
	return c
}

// GraphQL posts a query and decodes the answer.
func (a *App) GraphQL(token, query string, vars map[string]any) *GraphQLResult {
	a.T.Helper()
	resp := a.Do(http.MethodPost, "/graphql", token, map[string]any{"query": query, "variables": vars})
	var out GraphQLResult
	resp.JSON(a.T, &out)
	return &out
}
