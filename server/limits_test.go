package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/testkit"
)

func TestSecurityHeaders_OnEveryAnswer(t *testing.T) {
	app := testkit.NewApp(t)
	for _, path := range []string{"/healthz", "/", "/no/such/path", "/graphql?query=%7Bnope%7D"} {
		r := app.Do("GET", path, "", nil)
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: headers %v", path, h)
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
	}
	// The playground is a page with scripts: its own CSP lets its scripts run, and it
	// is still never framed.
	r := app.Do("GET", "/playground", "", nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		r.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("playground: %d %v", r.Status, r.Header)
	}
}

// preflight sends a CORS preflight for a POST with a bearer token from origin.
func preflight(t *testing.T, app *testkit.App, origin string) *testkit.Response {
	return app.Do("OPTIONS", "/graphql", "", nil, "Origin", origin,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
}

func TestCORS_OnlyTheAllowListedOrigins(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) {
		c.CORSOrigins = []string{"https://app.example.com", "https://*.staging.example.com"}
	})
	for _, origin := range []string{"https://app.example.com", "https://pr-12.staging.example.com"} {
		r := preflight(t, app, origin)
		if r.Status/100 != 2 || r.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight from %s: %d %v", origin, r.Status, r.Header)
		}
		r = app.Do("GET", "/", "", nil, "Origin", origin)
		if r.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
			t.Errorf("GET from %s: %v", origin, r.Header)
		}
		if r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed for %s", origin)
		}
	}
	for _, origin := range []string{"https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.io", "null"} {
		if r := preflight(t, app, origin); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s allowed: %v", origin, r.Header)
		}
		if r := app.Do("GET", "/", "", nil, "Origin", origin); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET from %s allowed: %v", origin, r.Header)
		}
	}

	// No CORS_ORIGINS: same origin only, no origin gets CORS headers.
	closed := testkit.NewApp(t)
	if r := preflight(t, closed, "https://app.example.com"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without CORS_ORIGINS a preflight was allowed: %v", r.Header)
	}
}

func TestConcurrencyCap_Answers503InEachSurfacesShape(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.MaxConcurrentRequests = 1; c.RequestTimeout = time.Minute })
	ten := tenantOf(t, app)

	// Hold the only slot: a request waiting on a locked table. (A body still
	// arriving holds none: bufferBodies reads it first.) Probe only once that
	// request waits on the lock: a probe sent before it arrives would take the slot
	// itself and turn it away.
	release, held := holdOnLockedTable(t, app, ten.token)
	eventually(t, 10*time.Second, "the server is full", func() bool {
		return app.Do("GET", "/", "", nil).Status == http.StatusServiceUnavailable
	})

	r := app.Do("GET", "/template", ten.token, nil)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" ||
		strings.TrimSpace(string(r.Body)) != `{"statusCode":503,"message":"the server is busy; try again shortly","error":"Service Unavailable"}` {
		t.Errorf("REST when full: %d %v %s", r.Status, r.Header, r.Body)
	}
	r = app.Do("POST", "/graphql", ten.token, map[string]any{"query": "{ me { id } }"})
	var g testkit.GraphQLResult
	if err := json.Unmarshal(r.Body, &g); err != nil || r.Status != 503 || g.Code() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
		t.Errorf("GraphQL when full: %d %s", r.Status, r.Body)
	}
	// Probes still answer, and websockets are not counted.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := app.Do("GET", p, "", nil); r.Status != 200 {
			t.Errorf("%s when full: %d", p, r.Status)
		}
	}
	if _, err := dialWS(t, app, "graphql-transport-ws", ten.token); err != nil {
		t.Errorf("websocket when full: %v", err)
	}

	// The slot frees: requests are served again.
	release()
	if code := <-held; code != http.StatusOK {
		t.Errorf("the held request answered %d", code)
	}
	eventually(t, 10*time.Second, "the server serves again", func() bool {
		return app.Do("GET", "/", "", nil).Status == 200
	})
	if got := scrape(t, app)["connectme_http_requests_shed_total"]; got < 2 {
		t.Errorf("shed requests counted: %v", got)
	}
}

func TestRequestTimeout_AnUnansweringDatabaseIs503(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.RequestTimeout = time.Second })
	ten := tenantOf(t, app)
	// Another session locks the conversations table: queries on it wait, as they do
	// on a database that has stopped answering.
	ctx := t.Context()
	tx, err := app.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	code, _, body := callWithin(t, app, 8*time.Second, "GET", "/conversation/conversation-page-list?page=1&limit=10", ten.token, "")
	if code != 503 || !strings.Contains(string(body), `"statusCode":503`) {
		t.Errorf("REST on a locked table: %d %s", code, body)
	}
	code, _, body = callWithin(t, app, 8*time.Second, "POST", "/graphql", ten.token, `{"query":"{ conversations { totalCount } }"}`)
	var g testkit.GraphQLResult
	if err := json.Unmarshal(body, &g); err != nil || g.Code() != "UNAVAILABLE" {
		t.Errorf("GraphQL on a locked table: %d %s", code, body)
	}
	_ = tx.Rollback()
	// Served again once the lock is gone (polled: a loaded machine may be slow).
	eventually(t, 30*time.Second, "served after the lock", func() bool {
		return app.Do("GET", "/conversation/conversation-page-list?page=1&limit=10", ten.token, nil).Status == 200
	})
}

func TestTimeouts_UploadsAndWebsocketsOutliveTheServerTimeouts(t *testing.T) {
	app := testkit.NewApp(t)
	ten := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, ten.company.ID, app.Clock.Now().Add(-time.Hour))
	// The app's handler behind a server whose ordinary timeouts are one second.
	srv := httptest.NewUnstartedServer(app.Server.Config.Handler)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = time.Second, time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	short := &testkit.App{T: t, DB: app.DB, Config: app.Config, Resolver: app.Resolver, Server: srv, Clock: app.Clock, Bus: app.Bus}

	// An upload that takes 2.5 s to arrive.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "slow.png")
		_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n"))
		for range 5 {
			time.Sleep(500 * time.Millisecond)
			_, _ = fw.Write(bytes.Repeat([]byte{0}, 500))
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/media/save", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+ten.token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("slow upload: %d %s", resp.StatusCode, b)
	}

	// A websocket idle past the write timeout still gets its events.
	ws, err := dialWS(t, short, "graphql-transport-ws", ten.token)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", messageAddedSub, nil)
	time.Sleep(1500 * time.Millisecond)
	id := sendText(t, app, ten.token, conv.UserID, "after the write timeout")
	got, err := ws.next(10 * time.Second)
	if err != nil || !strings.Contains(string(got.Data), id) {
		t.Errorf("event after the write timeout: %v %s", err, got.Data)
	}
}

func TestHTTPServer_HasEveryTimeout(t *testing.T) {
	s := server.HTTPServer(":0", http.NotFoundHandler(), testkit.NewApp(t).Resolver.Log)
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("timeouts: %+v", s)
	}
	if s.WriteTimeout <= 10*time.Second {
		t.Errorf("WriteTimeout %v must exceed the default REQUEST_TIMEOUT", s.WriteTimeout)
	}
}

func TestProductionMode_NoIntrospectionNoPlaygroundUnlessEnabled(t *testing.T) {
	const introspect = `{ __schema { queryType { name } } }`
	prod := testkit.NewApp(t, func(c *config.Config) {
		c.AppEnv, c.GraphQLIntrospection, c.Playground = "production", false, false
	})
	if g := prod.GraphQL("", introspect, nil); len(g.Errors) == 0 || strings.Contains(string(g.Data), "Query") {
		t.Errorf("production introspection: %s %+v", g.Data, g.Errors)
	}
	if r := prod.Do("GET", "/playground", "", nil); r.Status != 404 {
		t.Errorf("production playground: %d", r.Status)
	}
	enabled := testkit.NewApp(t, func(c *config.Config) {
		c.AppEnv, c.GraphQLIntrospection, c.Playground = "production", true, true
	})
	if g := enabled.GraphQL("", introspect, nil); len(g.Errors) > 0 || !strings.Contains(string(g.Data), "Query") {
		t.Errorf("production introspection enabled: %s %+v", g.Data, g.Errors)
	}
	if r := enabled.Do("GET", "/playground", "", nil); r.Status != 200 {
		t.Errorf("production playground enabled: %d", r.Status)
	}
}

func TestBodyLimits_EverySurfaceAnswers413(t *testing.T) {
	app := testkit.NewApp(t)
	ten := tenantOf(t, app)
	big := fmt.Sprintf(`{"text":"%s"}`, strings.Repeat("a", 2<<20))
	if r := app.Do("POST", "/message", ten.token, big); r.Status != 413 || !strings.Contains(string(r.Body), `"statusCode":413`) {
		t.Errorf("REST JSON: %d %.200s", r.Status, r.Body)
	}
	form := "Body=" + strings.Repeat("a", 100<<10)
	if r := app.Do("POST", "/message/messagein", "", form, "Content-Type", "application/x-www-form-urlencoded"); r.Status != 413 {
		t.Errorf("webhook: %d %.200s", r.Status, r.Body)
	}
	q := fmt.Sprintf(`{"query":"{ me { id } }","variables":{"pad":"%s"}}`, strings.Repeat("a", 300<<10))
	r := app.Do("POST", "/graphql", ten.token, q)
	var g testkit.GraphQLResult
	if err := json.Unmarshal(r.Body, &g); err != nil || r.Status != 413 || g.Code() != "BAD_USER_INPUT" ||
		!strings.Contains(g.Errors[0].Message, "larger than 262144 bytes") {
		t.Errorf("GraphQL: %d %.300s", r.Status, r.Body)
	}
	// Within the limit, the body reaches gqlgen intact.
	if g := app.GraphQL(ten.token, `query Me { me { id } }`, map[string]any{"pad": strings.Repeat("a", 200<<10)}); len(g.Errors) > 0 {
		t.Errorf("GraphQL under the limit: %+v", g.Errors)
	}
}

// callWithin makes one request that must be answered within limit (a hung request
// fails the test instead of answering late).
func callWithin(t *testing.T, app *testkit.App, limit time.Duration, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, app.Server.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s was not answered within %s: %v", method, path, limit, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}
