package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/testkit"
)

// closedWith reads until the socket closes and returns its close frame; it fails
// the test if it stays open for within, or if an operation completes first (the
// close code is what tells the client).
func closedWith(t *testing.T, cl *wsClient, within time.Duration) websocket.CloseError {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := cl.next(time.Until(deadline))
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("socket did not close within %s: %v", within, err)
			}
			return ce
		}
		t.Fatalf("got %+v before the close", r)
	}
}

// listeningPID waits for the app's LISTEN connection and returns its backend: the
// listener connects on its own goroutine, so on a loaded machine its LISTEN may come
// after the subscriptions register.
func listeningPID(t *testing.T, app *testkit.App) int {
	t.Helper()
	var pid int
	eventually(t, 10*time.Second, "the listener's LISTEN connection", func() bool {
		pid = listenerPID(t, app)
		return pid != 0
	})
	return pid
}

// listenerPID returns the backend of the app's LISTEN connection, or 0.
func listenerPID(t *testing.T, app *testkit.App) int {
	var pid int
	err := app.DB.NewRaw("SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").
		Scan(t.Context(), &pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// When the event listener loses its connection, the events committed meanwhile
// never reach the subscriptions: once it is back (within a second or two), every
// socket holding a subscription is closed with 4503 "events missed", on both
// protocols, so its client refetches and resubscribes. A socket without a
// subscription stays open, and new subscriptions get the events again.
func TestSubscriptions_LostListenerClosesSubscribedSocketsWith4503(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	protos := []string{"graphql-transport-ws", "graphql-ws"}
	subscribed := map[string]*wsClient{}
	for _, proto := range protos {
		cl, err := dialWS(t, app, proto, a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		subscribed[proto] = cl
	}
	idle, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the subscriptions register", func() bool { return app.Bus.Subscribers() == len(protos) })

	old := listeningPID(t, app)
	killed := time.Now()
	if _, err := app.DB.ExecContext(t.Context(), "SELECT pg_terminate_backend(?)", old); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "the listener is back within 2s of the kill", func() bool {
		ok, _ := app.Bus.Healthy()
		pid := listenerPID(t, app)
		return ok && pid != 0 && pid != old
	})
	for _, proto := range protos {
		ce := closedWith(t, subscribed[proto], 10*time.Second)
		if ce.Code != 4503 || ce.Reason != "events missed" {
			t.Errorf("%s: closed with %d %q, want 4503 \"events missed\"", proto, ce.Code, ce.Reason)
		}
	}
	t.Logf("sockets closed %s after the kill", time.Since(killed))

	// The socket without a subscription is still served.
	idle.send(wsMsg{Type: "ping"})
	if _, err := idle.read(t.Context()); err != nil {
		t.Errorf("a socket without subscriptions was closed: %v", err)
	}
	eventually(t, 10*time.Second, "the closed sockets' subscriptions end", func() bool { return app.Bus.Subscribers() == 0 })

	// New subscriptions, on either protocol, get the events again.
	for _, proto := range protos {
		cl, err := dialWS(t, app, proto, a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		eventually(t, 10*time.Second, "the new subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
		text := "after the gap over " + proto
		sendText(t, app, a.token, conv.UserID, text)
		r, err := cl.next(10 * time.Second)
		if err != nil || !strings.Contains(string(r.Data), text) {
			t.Fatalf("%s after the reconnect: %+v %v", proto, r, err)
		}
		_ = cl.c.Close(websocket.StatusNormalClosure, "")
		eventually(t, 10*time.Second, "the subscription ends", func() bool { return app.Bus.Subscribers() == 0 })
	}
}
