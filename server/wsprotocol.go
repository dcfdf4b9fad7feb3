package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// GraphQL over websockets, in both protocols gqlgen speaks:
//   - graphql-transport-ws (github.com/enisdenjo/graphql-ws, PROTOCOL.md): init,
//     ack, subscribe, next, error, complete, ping and pong;
//   - graphql-ws, the legacy subscriptions-transport-ws: init, ack,
//     connection_error, ka, start, data, error, complete, stop and
//     connection_terminate.
//
// It replaces gqlgen's transport.Websocket, which holds four goroutines per socket
// and one per subscription, each waiting: here the socket's read loop is the only
// goroutine, and a subscription's operation runs when its resolver reports an event
// (resolvers.Stream).

// Message types.
const (
	msgInit      = "connection_init"
	msgAck       = "connection_ack"
	msgPing      = "ping"
	msgPong      = "pong"
	msgSubscribe = "subscribe" // graphql-ws: start
	msgNext      = "next"      // graphql-ws: data
	msgError     = "error"
	msgComplete  = "complete" // from the client; graphql-ws: stop
	msgConnError = "connection_error"
	msgKA        = "ka"
	msgStart     = "start"
	msgData      = "data"
	msgStop      = "stop"
	msgTerminate = "connection_terminate"
)

// Close codes: graphql-transport-ws's, and the one gqlgen used for graphql-ws.
const (
	closeBadRequest          = 4400
	closeUnauthorized        = 4401
	closeInitTimeout         = 4408
	closeDuplicateID         = 4409
	closeTooManyInits        = 4429
	closeLegacyProtocolError = websocket.StatusProtocolError
	// closeEventsMissed ends a socket whose subscriptions may have missed events
	// (the event listener lost its connection): its client refetches and
	// resubscribes. Our own code, for both protocols.
	closeEventsMissed = 4503
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsTransport is the gqlgen transport of the sockets serveWebsocket accepts.
type wsTransport struct {
	// init authenticates connection_init's payload; it returns the connection's
	// context and the function that ends it, or an error that closes the socket
	// with 4403 (4429 for errTooManySockets).
	init func(ctx context.Context, payload map[string]any) (context.Context, context.CancelFunc, error)
	// keepAlive is the ping interval (WS_KEEPALIVE).
	keepAlive time.Duration
	// onGap is events.Bus.OnGap, when there is a bus: how a subscription learns
	// that the event listener may have lost its events.
	onGap func(fn func()) (stop func())
}

var _ graphql.Transport = wsTransport{}

// Supports implements graphql.Transport.
func (wsTransport) Supports(r *http.Request) bool {
	_, ok := r.Context().Value(socketKey{}).(*socket)
	return ok
}

// Do implements graphql.Transport: it authenticates the socket, then serves it
// from a goroutine of its own and returns, so the read loop that lives as long as
// the socket starts from a shallow stack.
func (t wsTransport) Do(_ http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := r.Context().Value(socketKey{}).(*socket)
	s.served.Store(true)
	s.onGap = t.onGap
	s.conn.SetReadLimit(wsReadLimit)
	if !t.handshake(r.Context(), s) {
		s.end()
		return
	}
	go s.serve(exec)
}

// serve reads the client's messages until the socket ends.
func (s *socket) serve(exec graphql.GraphExecutor) {
	defer func() {
		// Close first: the context's end would start a close handshake with a peer
		// that may be gone.
		s.release()
		s.cancel()
		s.end()
	}()
	defer func() {
		// This goroutine is outside net/http's and gqlgen's recovery: a bug in
		// serving one socket ends that socket (1011), not the server.
		if r := recover(); r != nil {
			if s.log != nil {
				s.log.Error("websocket: panic", "panic", r, "stack", string(debug.Stack()))
			}
			s.close(websocket.StatusInternalError, "internal error")
		}
	}()
	for {
		typ, data, err := s.conn.Read(context.Background())
		if err != nil {
			return
		}
		start := graphql.Now()
		var m wsMessage
		if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
			s.protocolError("invalid message")
			return
		}
		switch {
		case m.Type == msgSubscribe && !s.legacy, m.Type == msgStart && s.legacy:
			aside(func() { s.start(exec, m, start) })
		case m.Type == msgComplete && !s.legacy, m.Type == msgStop && s.legacy:
			s.stop(m.ID)
		case m.Type == msgPing && !s.legacy:
			s.send(msgPong, "", m.Payload)
		case m.Type == msgPong && !s.legacy:
			s.pong()
		case m.Type == msgInit && !s.legacy:
			s.close(closeTooManyInits, "Too many initialisation requests")
			return
		case m.Type == msgTerminate && s.legacy:
			s.close(websocket.StatusNormalClosure, "terminated")
			return
		default:
			s.protocolError("unexpected message " + m.Type)
			return
		}
	}
}

// aside runs fn on a goroutine of its own and waits for it. The deep call chains
// of starting an operation (parsing, validation, the resolver's queries) then grow
// that goroutine's stack, which ends with fn, rather than the read loop's, which
// lives as long as the socket.
func aside(fn func()) {
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		fn()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

// handshake waits for connection_init and authenticates it.
func (t wsTransport) handshake(ctx context.Context, s *socket) bool {
	timer := time.AfterFunc(wsInitTimeout, func() {
		if s.legacy {
			s.close(closeLegacyProtocolError, "connection initialisation timeout")
		} else {
			s.close(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	defer timer.Stop()
	typ, data, err := s.conn.Read(context.Background())
	if err != nil {
		return false
	}
	var m wsMessage
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
		s.protocolError("invalid json")
		return false
	}
	switch {
	case m.Type == msgInit:
	case m.Type == msgSubscribe && !s.legacy:
		s.close(closeUnauthorized, "Unauthorized")
		return false
	case m.Type == msgTerminate && s.legacy:
		s.close(websocket.StatusNormalClosure, "terminated")
		return false
	default:
		s.protocolError("unexpected message " + m.Type)
		return false
	}
	if !timer.Stop() {
		return false // timed out (and closed) meanwhile
	}
	var payload map[string]any
	if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &payload) != nil {
		s.protocolError("invalid connection_init payload")
		return false
	}
	cctx, cancel, err := t.init(ctx, payload)
	if err != nil {
		if s.legacy {
			s.send(msgConnError, "", gqlerror.Errorf("%s", err.Error()))
		}
		s.close(initCloseCode(err), err.Error())
		return false
	}
	s.ctx, s.cancel = cctx, cancel
	// The token's expiry ends the socket with 4401, which tells the client to
	// refresh its session and reconnect (CONTRACT part two); the server's shutdown
	// ends it normally.
	context.AfterFunc(s.ctx, func() {
		if errors.Is(s.ctx.Err(), context.DeadlineExceeded) {
			s.close(closeUnauthorized, "token expired")
			return
		}
		s.close(websocket.StatusNormalClosure, "terminated")
	})
	s.send(msgAck, "", nil)
	if s.legacy {
		s.send(msgKA, "", nil)
	}
	s.keepAlive(t.keepAlive)
	return true
}

// protocolError ends the socket after a message the protocol does not allow.
func (s *socket) protocolError(why string) {
	if s.legacy {
		s.send(msgConnError, "", gqlerror.Errorf("%s", why))
		s.close(closeLegacyProtocolError, why)
		return
	}
	s.close(closeBadRequest, why)
}
