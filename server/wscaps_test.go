package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

// upgrade tries a websocket upgrade, with headers, and returns the HTTP status of
// a refused one (0 when it was accepted; the socket is then closed at the end).
func upgrade(t *testing.T, app *testkit.App, headers http.Header) (int, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(app.Server.URL, "http") + "/graphql"
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: headers})
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
		return 0, nil
	}
	if resp == nil {
		t.Fatalf("upgrade: %v", err)
	}
	return resp.StatusCode, resp.Header
}

func TestWebsocketCaps_PerAddressRefusedAtTheUpgradeWith429(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WSMaxPerAddr = 3; c.WSMaxPerAgent = 0 })
	a, b := tenantOf(t, app), tenantOf(t, app)
	var open []*wsClient
	for i, tok := range []string{a.token, b.token, a.token} {
		cl, err := dialWS(t, app, "graphql-transport-ws", tok)
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		open = append(open, cl)
	}
	// A fourth from the same address, whoever the agent: 429 before any upgrade.
	status, h := upgrade(t, app, nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("fourth socket of one address: %d %v", status, h)
	}
	// One closes: the address may open another.
	_ = open[0].c.Close(websocket.StatusNormalClosure, "")
	eventually(t, 10*time.Second, "a socket may open again", func() bool {
		status, _ := upgrade(t, app, nil)
		return status == 0
	})
}

func TestWebsocketCaps_PerAgent(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WSMaxPerAgent = 2; c.WSMaxPerAddr = 0 })
	a, b := tenantOf(t, app), tenantOf(t, app)
	first, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialWS(t, app, "graphql-ws", a.token); err != nil {
		t.Fatal(err)
	}
	// The token at connection_init: the third socket of the agent is closed 4429.
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		cl, err := dialWS(t, app, proto, a.token)
		if err == nil {
			err = readUntilClosed(cl)
		}
		if closeStatus(err) != 4429 {
			t.Errorf("%s: third socket of one agent: %v", proto, err)
		}
	}
	// The token at the upgrade (Authorization header): refused with 429 there.
	status, h := upgrade(t, app, http.Header{"Authorization": {"Bearer " + a.token}})
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("third socket with the token at the upgrade: %d %v", status, h)
	}
	// Another agent is not affected.
	if _, err := dialWS(t, app, "graphql-transport-ws", b.token); err != nil {
		t.Errorf("another agent: %v", err)
	}
	// One of the agent's sockets closes: it may open another.
	_ = first.c.Close(websocket.StatusNormalClosure, "")
	eventually(t, 10*time.Second, "the agent may open a socket again", func() bool {
		cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
		if err != nil {
			_ = cl.c.CloseNow()
		}
		return err == nil
	})
}
