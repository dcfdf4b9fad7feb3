package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// sub is one graphql-transport-ws socket holding one subscription.
type sub struct {
	conn *websocket.Conn
	// events receives each "next" payload's data.
	events chan json.RawMessage
	// closed is closed when the socket ends; code is then its close status (-1:
	// no close frame, the connection just broke).
	closed chan struct{}
	code   websocket.StatusCode
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a socket to wsURL (ws:// or wss://), authenticates with token at
// connection_init and starts query; it answers the server's pings.
func subscribe(ctx context.Context, wsURL string, hc *http.Client, token, query string) (*sub, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return nil, fmt.Errorf("dial %s (HTTP %d): %w", wsURL, code, err)
	}
	conn.SetReadLimit(1 << 20)
	s := &sub{conn: conn, events: make(chan json.RawMessage, 1024), closed: make(chan struct{})}
	init, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + token})
	if err := s.write(dctx, wsMsg{Type: "connection_init", Payload: init}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	var ack wsMsg
	if err := s.read(dctx, &ack); err != nil || ack.Type != "connection_ack" {
		conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %+v %v", ack, err)
	}
	payload, _ := json.Marshal(map[string]string{"query": query})
	if err := s.write(dctx, wsMsg{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	go s.loop()
	return s, nil
}

func (s *sub) write(ctx context.Context, m wsMsg) error {
	b, _ := json.Marshal(m)
	return s.conn.Write(ctx, websocket.MessageText, b)
}

func (s *sub) read(ctx context.Context, m *wsMsg) error {
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, m)
}

func (s *sub) loop() {
	defer close(s.closed)
	for {
		var m wsMsg
		if err := s.read(context.Background(), &m); err != nil {
			s.code = websocket.CloseStatus(err)
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				s.code = -1
			}
			return
		}
		switch m.Type {
		case "ping":
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.write(ctx, wsMsg{Type: "pong"})
			cancel()
		case "next":
			var p struct {
				Data json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			select {
			case s.events <- p.Data:
			default:
			}
		case "error", "complete":
			s.code = -2
			s.conn.CloseNow()
			return
		}
	}
}

// close ends the socket from our side.
func (s *sub) close() {
	_ = s.conn.Close(websocket.StatusNormalClosure, "")
	<-s.closed
}
