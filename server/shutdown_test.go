package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/testkit"
)

func TestShutdown_TricklingClientsDoNotHoldTheStop(t *testing.T) {
	defer server.SetShutdownGrace(500 * time.Millisecond)()
	app := testkit.NewApp(t, func(c *config.Config) { c.BodyTimeout = time.Minute })
	ten := tenantOf(t, app)
	// The app's handler behind the binary's server.
	srv := server.HTTPServer("127.0.0.1:0", app.Server.Config.Handler, app.Resolver.Log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	// An agent's upload (15 minutes to arrive) and an ordinary body (BODY_TIMEOUT of
	// a minute), both trickling.
	const boundary = "xyz"
	upload := []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\n" + string(make([]byte, 500)))
	trickle(t, ln.Addr().String(), uploadHead("/media/save", ten.token, boundary), upload, 100*time.Millisecond)
	login := []byte(`{"email":"nobody@example.com","password":"not-the-password"}`)
	trickle(t, ln.Addr().String(), fmt.Sprintf("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(login)), login, 100*time.Millisecond)
	eventually(t, 10*time.Second, "both trickling requests are in flight", func() bool {
		return scrape(t, app)["connectme_http_requests_in_flight"] >= 3 // and the scrape
	})

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with trickling clients: %v after %s", err, time.Since(start))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %s", d)
	}
}

// A socket upgraded but not yet initialised when the shutdown begins gets a close
// frame too (1000), and an upgrade that arrives during the shutdown is refused with
// 503, which a proxy retries on another instance: no socket is left for the process
// exit to cut without a close frame (the rolling restart of the deployment check).
func TestShutdown_ClosesUninitialisedSocketsAndRefusesLateUpgrades(t *testing.T) {
	app := testkit.NewApp(t)
	c := dialRaw(t, app, "graphql-transport-ws")
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, _, err := c.Read(ctx)
		closed <- err
	}()
	app.Shutdown()
	select {
	case err := <-closed:
		if code := websocket.CloseStatus(err); code != websocket.StatusNormalClosure {
			t.Fatalf("closed with %v (%v), want 1000", code, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the shutdown returned while a socket had no close frame yet")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(app.Server.URL, "http") + "/graphql"
	late, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil {
		_ = late.CloseNow()
		t.Fatal("an upgrade during the shutdown was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("late upgrade: %v %+v, want 503 with Retry-After", err, resp)
	}
}
