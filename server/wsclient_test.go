package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/testkit"
)

// wsClient is a minimal GraphQL websocket client speaking either protocol.
type wsClient struct {
	t     *testing.T
	c     *websocket.Conn
	proto string
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS connects and sends connection_init with the token; it returns the client
// and the error of the handshake (nil once acknowledged).
func dialWS(t *testing.T, app *testkit.App, proto, token string) (*wsClient, error) {
	t.Helper()
	c := dialRaw(t, app, proto)
	cl := &wsClient{t: t, c: c, proto: proto}
	init := map[string]any{}
	if token != "" {
		init["Authorization"] = "Bearer " + token
	}
	cl.send(wsMsg{Type: "connection_init", Payload: mustJSON(init)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := cl.read(ctx)
		if err != nil {
			return cl, err
		}
		switch m.Type {
		case "connection_ack":
			return cl, nil
		case "ka":
		case "connection_error":
		default:
			t.Fatalf("unexpected %s before ack", m.Type)
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (cl *wsClient) send(m wsMsg) {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := json.Marshal(m)
	if err := cl.c.Write(ctx, websocket.MessageText, b); err != nil {
		cl.t.Fatalf("ws write: %v", err)
	}
}

func (cl *wsClient) read(ctx context.Context) (wsMsg, error) {
	_, b, err := cl.c.Read(ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	if err := json.Unmarshal(b, &m); err != nil {
		cl.t.Fatalf("ws frame is not JSON: %s", b)
	}
	return m, nil
}

// subscribe starts an operation with id.
func (cl *wsClient) subscribe(id, query string, vars map[string]any) {
	typ := "subscribe"
	if cl.proto == "graphql-ws" {
		typ = "start"
	}
	cl.send(wsMsg{ID: id, Type: typ, Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

type wsResult struct {
	ID     string
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
	Type string
}

// next returns the next data/error/complete message, answering pings.
func (cl *wsClient) next(timeout time.Duration) (wsResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		m, err := cl.read(ctx)
		if err != nil {
			return wsResult{}, err
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			cl.send(wsMsg{Type: "pong"})
			continue
		case "next", "data":
			var r wsResult
			_ = json.Unmarshal(m.Payload, &r)
			r.ID, r.Type = m.ID, m.Type
			return r, nil
		case "error":
			r := wsResult{ID: m.ID, Type: m.Type}
			if err := json.Unmarshal(m.Payload, &r.Errors); err != nil {
				_ = json.Unmarshal(m.Payload, &r)
			}
			return r, nil
		case "complete":
			return wsResult{ID: m.ID, Type: m.Type}, nil
		default:
			return wsResult{}, errors.New("unexpected message " + m.Type)
		}
	}
}

// closeStatus returns the websocket close code of err, or -1.
func closeStatus(err error) websocket.StatusCode {
	return websocket.CloseStatus(err)
}
