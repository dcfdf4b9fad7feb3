package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

func TestWebsocket_PingIsAnsweredAndCompleteEndsTheSubscription(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl.send(wsMsg{Type: "ping", Payload: mustJSON(map[string]any{"n": 1})})
	if m, err := cl.read(ctx); err != nil || m.Type != "pong" || string(m.Payload) != `{"n":1}` {
		t.Fatalf("ping answered with %+v %v, want a pong with its payload", m, err)
	}
	cl.subscribe("1", messageAddedSub, nil)
	eventually(t, 10*time.Second, "the subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
	sendText(t, app, a.token, conv.UserID, "first")
	if r, err := cl.next(10 * time.Second); err != nil || r.ID != "1" || !strings.Contains(string(r.Data), "first") {
		t.Fatalf("event: %+v %v", r, err)
	}
	cl.send(wsMsg{ID: "1", Type: "complete"})
	if r, err := cl.next(10 * time.Second); err != nil || r.Type != "complete" || r.ID != "1" {
		t.Fatalf("after complete: %+v %v, want complete", r, err)
	}
	eventually(t, 10*time.Second, "the subscription ends", func() bool { return app.Bus.Subscribers() == 0 })
	// The socket goes on: a query over it gets its result, then complete.
	cl.send(wsMsg{ID: "q", Type: "subscribe", Payload: mustJSON(map[string]any{"query": `{ me { id } }`})})
	if r, err := cl.next(10 * time.Second); err != nil || r.Type != "next" || !strings.Contains(string(r.Data), fmt.Sprint(a.agent.ID)) {
		t.Fatalf("query over the socket: %+v %v", r, err)
	}
	if r, err := cl.next(10 * time.Second); err != nil || r.Type != "complete" || r.ID != "q" {
		t.Fatalf("after the query: %+v %v, want complete", r, err)
	}
}

func TestWebsocket_ProtocolViolationsCloseWithTheirCodes(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	t.Run("duplicate id", func(t *testing.T) {
		cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		cl.subscribe("1", messageAddedSub, nil)
		if code := closeStatus(readUntilClosed(cl)); code != 4409 {
			t.Errorf("close = %v, want 4409", code)
		}
	})
	t.Run("duplicate id, graphql-ws", func(t *testing.T) {
		cl, err := dialWS(t, app, "graphql-ws", a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		cl.subscribe("1", messageAddedSub, nil)
		r, err := cl.next(10 * time.Second)
		if err != nil || r.Type != "error" || r.ID != "1" || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "already in use") {
			t.Errorf("duplicate start: %+v %v, want an error for it", r, err)
		}
	})
	t.Run("second init", func(t *testing.T) {
		cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.send(wsMsg{Type: "connection_init"})
		if code := closeStatus(readUntilClosed(cl)); code != 4429 {
			t.Errorf("close = %v, want 4429", code)
		}
	})
	t.Run("subscribe before init", func(t *testing.T) {
		c := dialRaw(t, app, "graphql-transport-ws")
		cl := &wsClient{t: t, c: c, proto: "graphql-transport-ws"}
		cl.subscribe("1", messageAddedSub, nil)
		if code := closeStatus(readUntilClosed(cl)); code != 4401 {
			t.Errorf("close = %v, want 4401", code)
		}
	})
	t.Run("unknown message", func(t *testing.T) {
		cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.send(wsMsg{Type: "no-such-type"})
		if code := closeStatus(readUntilClosed(cl)); code != 4400 {
			t.Errorf("close = %v, want 4400", code)
		}
	})
}

func TestWebsocket_NoInitWithinTheTimeoutCloses4408(t *testing.T) {
	t.Parallel()
	app := testkit.NewApp(t)
	c := dialRaw(t, app, "graphql-transport-ws")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if code := closeStatus(err); code != 4408 {
		t.Errorf("close = %v (%v), want 4408", code, err)
	}
}

// dialRaw opens a socket and sends nothing.
func dialRaw(t *testing.T, app *testkit.App, proto string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(app.Server.URL, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// readUntilClosed reads until the socket closes and returns the close error.
func readUntilClosed(cl *wsClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := cl.c.Read(ctx); err != nil {
			return err
		}
	}
}

func TestWebsocket_OneGoroutinePerSocketAndNoneLeftAfterClose(t *testing.T) {
	// 21 sockets of one agent: over WS_MAX_PER_AGENT's default, which is not what
	// this test is about.
	app := testkit.NewApp(t, func(c *config.Config) { c.WSMaxPerAgent = 0 })
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	// One socket first, so the company's event goroutine and the pools are there.
	first, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	first.subscribe("1", messageAddedSub, nil)
	eventually(t, 10*time.Second, "the first subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
	// And the HTTP keep-alive connection (two goroutines each side) sendText uses.
	if res := app.GraphQL(a.token, `{ me { id } }`, nil); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	base := runtime.NumGoroutine()
	const n = 20
	var cls []*wsClient
	for i := 0; i < n; i++ {
		cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		cls = append(cls, cl)
	}
	eventually(t, 10*time.Second, "the subscriptions register", func() bool { return app.Bus.Subscribers() == n+1 })
	eventually(t, 10*time.Second, "one goroutine per socket", func() bool { return runtime.NumGoroutine()-base <= n+2 })
	sendText(t, app, a.token, conv.UserID, "to all")
	for _, cl := range append(cls, first) {
		if r, err := cl.next(10 * time.Second); err != nil || !strings.Contains(string(r.Data), "to all") {
			t.Fatalf("event: %+v %v", r, err)
		}
	}
	for _, cl := range cls {
		_ = cl.c.CloseNow()
	}
	eventually(t, 10*time.Second, "the sockets' goroutines end", func() bool {
		return app.Bus.Subscribers() == 1 && runtime.NumGoroutine() <= base+2
	})
}

// The server pings every WS_KEEPALIVE and drops a client that has not answered by
// the next ping; a client that answers stays connected.
func TestWebsocket_ClientThatStopsAnsweringPingsIsDropped(t *testing.T) {
	const every = 200 * time.Millisecond
	app := testkit.NewApp(t, func(c *config.Config) { c.WSKeepAlive = every })
	a := tenantOf(t, app)

	silent, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	answering, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	// The answering client reads and pongs in the background for the whole test
	// (straight on the connection: the helpers report failures with t, which a
	// goroutine must not use).
	pings := make(chan struct{}, 100)
	go func() {
		for {
			_, b, err := answering.c.Read(context.Background())
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"type":"ping"`) {
				if answering.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`)) != nil {
					return
				}
				select {
				case pings <- struct{}{}:
				default:
				}
			}
		}
	}()

	// The silent one sees a ping, does not answer, and is cut off a ping later.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sawPing := false
	for {
		m, err := silent.read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the silent client was not dropped within 10 s")
			}
			break
		}
		sawPing = sawPing || m.Type == "ping"
	}
	if !sawPing {
		t.Error("the silent client was dropped without being pinged")
	}
	if took := time.Since(start); took < every {
		t.Errorf("dropped after %v, before a whole interval", took)
	}
	// Meanwhile the answering client kept being pinged, and stays connected.
	for n := 0; n < 3; n++ {
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatalf("the answering client got %d pings, then none", n)
		}
	}
	if res := app.GraphQL(a.token, `{ me { id } }`, nil); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if err := answering.c.Ping(context.Background()); err != nil {
		t.Errorf("the answering client's socket is gone: %v", err)
	}
}
