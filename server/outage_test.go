package server_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// pgProxy is a TCP proxy in front of PostgreSQL that a test can cut and restore, to
// play a database outage without touching the machine's PostgreSQL. Cut closes every
// connection and refuses new ones: they are accepted and closed at once, as a server
// that is going down does. (Closing the listener instead would let its port be taken
// by someone else before the restore.)
type pgProxy struct {
	addr, target string
	ln           net.Listener

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.Cut()
	})
	return p
}

func (p *pgProxy) handle(c net.Conn) {
	if p.isCut() {
		c.Close()
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	go pipe(up, c)
	go pipe(c, up)
}

func (p *pgProxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Cut closes every proxied connection and refuses new ones.
func (p *pgProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *pgProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// viaProxy returns dsn with its host and port replaced by the proxy's.
func viaProxy(t *testing.T, dsn string, p *pgProxy) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

// messageStatus returns the status of the message with the given content.
func messageStatus(t *testing.T, app *testkit.App, content string) string {
	t.Helper()
	var status string
	err := app.DB.NewRaw("SELECT status FROM messages WHERE content = ?", content).Scan(t.Context(), &status)
	if err != nil {
		t.Fatalf("status of %q: %v", content, err)
	}
	return status
}

func TestDatabaseOutage_FailsFastWith503AndRecoversByItself(t *testing.T) {
	base, err := url.Parse(testkit.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, base.Host)
	bdb, err := db.Open(viaProxy(t, testkit.NewDatabase(t), proxy))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	// The app's inbound media fetcher downloads from a fake provider that serves a
	// PNG; its delivery workers send through the development provider.
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...))
	}))
	t.Cleanup(provider.Close)
	app := testkit.NewAppOn(t, bdb, func(c *config.Config) { c.TwilioAPIBase = provider.URL })

	company := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, company.ID)
	token := app.Token(agent)
	conv := testkit.Conversation(t, app.DB, company.ID, app.Clock.Now().Add(-time.Hour))
	const list = "/conversation/conversation-page-list?page=1&limit=10"
	const gqlQuery = `{"query":"{ conversations(first: 5) { totalCount } }"}`
	send := func(text string) string {
		b, _ := json.Marshal(map[string]any{"to": conv.UserID, "text": text})
		return string(b)
	}
	const limit = 8 * time.Second

	// Healthy: everything works, and a message goes out.
	if code, _, body := callWithin(t, app, limit, "POST", "/message", token, send("before the outage")); code != 200 {
		t.Fatalf("send before the outage: %d %s", code, body)
	}
	eventually(t, 30*time.Second, "the message before the outage is sent", func() bool {
		return messageStatus(t, app, "before the outage") == db.StatusSent
	})

	proxy.Cut()

	// /readyz turns 503 at once.
	code, _, body := callWithin(t, app, limit, "GET", "/readyz", "", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"database":"unreachable"`) {
		t.Fatalf("readyz during the outage: %d %s", code, body)
	}
	// REST answers 503 in the NestJS shape, fast, for reads and writes alike.
	const want503 = `{"statusCode":503,"message":"the service is temporarily unavailable; try again shortly","error":"Service Unavailable"}`
	for _, c := range []struct{ method, path, body string }{
		{"GET", list, ""},
		{"POST", "/message", send("during the outage")},
	} {
		code, hdr, body := callWithin(t, app, limit, c.method, c.path, token, c.body)
		if code != http.StatusServiceUnavailable || strings.TrimSpace(string(body)) != want503 {
			t.Errorf("%s %s during the outage: %d %s", c.method, c.path, code, body)
		}
		if hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", c.method, c.path)
		}
	}
	// GraphQL answers UNAVAILABLE, fast, without internals.
	code, _, body = callWithin(t, app, limit, "POST", "/graphql", token, gqlQuery)
	var g testkit.GraphQLResult
	if err := json.Unmarshal(body, &g); err != nil || g.Code() != "UNAVAILABLE" {
		t.Errorf("GraphQL during the outage: %d %s", code, body)
	}
	for _, leak := range []string{"dial", "127.0.0.1", "EOF", "pgdriver", "connection"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("GraphQL error leaks %q: %s", leak, body)
		}
	}
	// /metrics still answers (the outbox series are left out).
	if code, _, body := callWithin(t, app, limit, "GET", "/metrics", "", ""); code != 200 || !strings.Contains(string(body), "connectme_events_listener_up") {
		t.Errorf("metrics during the outage: %d", code)
	}
	// The event listener notices.
	eventually(t, 30*time.Second, "the event bus reports the outage", func() bool {
		ok, _ := app.Bus.Healthy()
		return !ok
	})

	// Hold the outage long enough for the delivery workers' polls to run into it and
	// pause (the assertions above do not depend on this wait, only the coverage).
	time.Sleep(1500 * time.Millisecond)
	proxy.Restore()

	// Everything comes back with no restart.
	eventually(t, 60*time.Second, "readyz is 200 again", func() bool {
		code, _, _ := callWithin(t, app, limit, "GET", "/readyz", "", "")
		return code == http.StatusOK
	})
	if ok, why := app.Bus.Healthy(); !ok {
		t.Errorf("event bus after recovery: %s", why)
	}
	if code, _, body := callWithin(t, app, limit, "GET", list, token, ""); code != 200 {
		t.Errorf("REST after recovery: %d %s", code, body)
	}
	code, _, body = callWithin(t, app, limit, "POST", "/graphql", token, gqlQuery)
	var after testkit.GraphQLResult
	if err := json.Unmarshal(body, &after); err != nil || code != 200 || len(after.Errors) > 0 {
		t.Errorf("GraphQL after recovery: %d %s", code, body)
	}
	// A message sent now is delivered by the same pool, which paused meanwhile.
	if code, _, body := callWithin(t, app, limit, "POST", "/message", token, send("after the outage")); code != 200 {
		t.Fatalf("send after recovery: %d %s", code, body)
	}
	eventually(t, 60*time.Second, "the message after the outage is sent", func() bool {
		return messageStatus(t, app, "after the outage") == db.StatusSent
	})
	var n int
	if err := app.DB.NewRaw("SELECT count(*) FROM messages WHERE content = 'during the outage'").Scan(t.Context(), &n); err != nil || n != 0 {
		t.Errorf("a message refused with 503 was stored: %d %v", n, err)
	}
	// Inbound media arriving now are fetched by the same fetcher, which paused too.
	form := url.Values{"MessageSid": {"SMafteroutage0000000000000000001"}, "From": {"whatsapp:+94717936775"},
		"To": {*company.WhatsAppNumber}, "NumMedia": {"1"}, "MediaUrl0": {provider.URL + "/media/1"},
		"MediaContentType0": {"image/png"}}
	if r := app.Do("POST", "/message/messagein", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded"); r.Status != 201 {
		t.Fatalf("inbound webhook after recovery: %d %s", r.Status, r.Body)
	}
	eventually(t, 60*time.Second, "the inbound media after the outage is fetched", func() bool {
		var state string
		err := app.DB.NewRaw("SELECT state FROM attachments WHERE company_id = ?", company.ID).Scan(t.Context(), &state)
		return err == nil && state == db.AttachmentStored
	})
}

// After an outage long enough for the listener's backoff to grow, the listener is
// back within about a second of the database, and the sockets that subscribed
// before or during the outage are closed with 4503 "events missed".
func TestDatabaseOutage_ListenerBackWithinASecondAndSubscribersTold(t *testing.T) {
	base, err := url.Parse(testkit.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, base.Host)
	bdb, err := db.Open(viaProxy(t, testkit.NewDatabase(t), proxy))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	app := testkit.NewAppOn(t, bdb)
	a := tenantOf(t, app)
	before, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	before.subscribe("1", messageAddedSub, nil)
	eventually(t, 10*time.Second, "the subscription registers", func() bool { return app.Bus.Subscribers() == 1 })

	proxy.Cut()
	eventually(t, 10*time.Second, "the event bus reports the outage", func() bool {
		ok, _ := app.Bus.Healthy()
		return !ok
	})
	// Authenticating a socket and subscribing to all messages need no database.
	during, err := dialWS(t, app, "graphql-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	during.subscribe("1", messageAddedSub, nil)
	eventually(t, 10*time.Second, "the subscription during the outage registers", func() bool { return app.Bus.Subscribers() == 2 })
	// Hold the outage for several of the listener's attempts (the outage's length,
	// not a wait for a condition).
	time.Sleep(7 * time.Second)
	proxy.Restore()
	restored := time.Now()
	eventually(t, 10*time.Second, "the listener is back", func() bool { ok, _ := app.Bus.Healthy(); return ok })
	if d := time.Since(restored); d > 1500*time.Millisecond {
		t.Errorf("the listener came back %s after the database, want within about a second", d)
	}
	for name, cl := range map[string]*wsClient{"before": before, "during": during} {
		if ce := closedWith(t, cl, 10*time.Second); ce.Code != 4503 || ce.Reason != "events missed" {
			t.Errorf("subscribed %s the outage: closed with %d %q, want 4503", name, ce.Code, ce.Reason)
		}
	}
}
