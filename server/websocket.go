package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/resolvers"
)

// Websocket settings.
const (
	// wsKeepAlive is the ping interval when the configuration gives none.
	wsKeepAlive   = 15 * time.Second
	wsInitTimeout = 10 * time.Second
	// wsReadLimit bounds one client frame; subscriptions are small documents.
	wsReadLimit = 64 << 10
	// closeForbidden is graphql-transport-ws's close code for a refused
	// connection_init (also used for the legacy protocol).
	closeForbidden = 4403
)

var errForbidden = errors.New("Forbidden")

// websocketTransport speaks graphql-transport-ws and the legacy graphql-ws on
// /graphql (wsprotocol.go). The token travels in connection_init; a missing or bad
// one closes the socket with 4403, an agent with WS_MAX_PER_AGENT sockets open
// already with 4429 (wsCaps). The connection ends when its token expires and
// when the server shuts down, and with 4503 "events missed" when the event
// listener may have lost events its subscriptions were waiting for (eventsMissed).
func websocketTransport(d Deps) wsTransport {
	keepAlive := wsKeepAlive
	if d.Config != nil && d.Config.WSKeepAlive > 0 {
		keepAlive = d.Config.WSKeepAlive
	}
	var onGap func(func()) func()
	if d.Bus != nil {
		onGap = d.Bus.OnGap
	}
	return wsTransport{keepAlive: keepAlive, onGap: onGap, init: func(ctx context.Context, payload map[string]any) (context.Context, context.CancelFunc, error) {
		tok := auth.BearerToken(authorization(payload))
		p, err := d.Resolver.Tokens.Parse(tok)
		if tok == "" || err != nil {
			return nil, nil, errForbidden
		}
		if s, ok := ctx.Value(socketKey{}).(*socket); ok {
			if !d.wsCaps.acquireAgent(p.UserID) {
				return nil, nil, errTooManySockets
			}
			s.onEnd(func() { d.wsCaps.releaseAgent(p.UserID) })
			// The session ends (logout, deactivation, password or role change,
			// refresh reuse) on any instance: close with 4403 at once.
			stop := d.Resolver.Tokens.Revoked.Watch(p.SessionID, func() { s.close(closeForbidden, "session ended") })
			s.onEnd(stop)
		}
		ctx = auth.WithPrincipal(ctx, p)
		ctx = resolvers.WithSocket(ctx)
		// The socket lives no longer than its token, nor than the server. AfterFunc
		// rather than a waiting goroutine: with 10,000 sockets open, every
		// goroutine per socket costs tens of megabytes.
		ctx, cancel := context.WithDeadline(ctx, p.ExpiresAt)
		if d.Done == nil {
			return ctx, cancel, nil
		}
		stop := context.AfterFunc(d.Done, cancel)
		return ctx, func() {
			stop()
			cancel()
		}, nil
	}}
}

// authorization reads the token of a connection_init payload, as gqlgen's
// InitPayload.Authorization does.
func authorization(payload map[string]any) string {
	for _, k := range []string{"Authorization", "authorization"} {
		if v, ok := payload[k].(string); ok {
			return v
		}
	}
	return ""
}

// serveWebsocket accepts a websocket upgrade on /graphql and serves the socket from
// a goroutine of its own, then returns. Returning releases what net/http holds for
// a request while its handler runs (the connection goroutine and its stack, the
// request, its 4 KB read and write buffers, the middleware's contexts), which for a
// websocket would otherwise be held for the socket's whole life.
//
// Sockets over the caps of the client's address or of the agent named by an
// Authorization header are refused here with 429 (wsCaps).
func serveWebsocket(d Deps, gql http.Handler, w http.ResponseWriter, r *http.Request) {
	if !d.Sockets.add() {
		refuseShuttingDown(w)
		return
	}
	addr := auth.ClientAddr(r.Context())
	if !d.wsCaps.acquireAddr(addr) {
		d.Sockets.done()
		refuseSocket(w, "too many websockets from this address")
		return
	}
	if p := auth.FromContext(r.Context()); p != nil && d.wsCaps.agentFull(p.UserID) {
		d.wsCaps.releaseAddr(addr)
		d.Sockets.done()
		refuseSocket(w, "too many websockets for this agent")
		return
	}
	c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols:   []string{"graphql-transport-ws", "graphql-ws"},
		OriginPatterns: originPatterns(d.Config.CORSOrigins),
	})
	if err != nil {
		d.wsCaps.releaseAddr(addr)
		d.Sockets.done()
		return // Accept has answered the request
	}
	// No subprotocol, as with gqlgen, means the legacy one.
	s := &socket{conn: c, legacy: c.Subprotocol() != "graphql-transport-ws", log: d.Log}
	// Only what the socket needs from the upgrade request: the request id for the
	// logs and the client's address.
	ctx := logging.WithRequestID(context.Background(), logging.RequestID(r.Context()))
	ctx = auth.WithClientAddr(ctx, auth.ClientAddr(r.Context()))
	ctx = context.WithValue(ctx, socketKey{}, s)
	req := (&http.Request{Method: http.MethodGet, URL: r.URL, Proto: r.Proto, ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor, Header: http.Header{"Upgrade": {"websocket"}}, Host: r.Host,
		RemoteAddr: r.RemoteAddr}).WithContext(ctx)
	d.Metrics.WebsocketOpened()
	s.ended = func() {
		d.Metrics.WebsocketClosed()
		d.wsCaps.releaseAddr(addr)
		d.Sockets.done()
	}
	// A shutdown closes every socket, also one still waiting for its
	// connection_init (whose connection context does not exist yet). The
	// initialised ones are closed through their context too (wsprotocol.go), with the
	// same code; whichever comes first wins.
	if d.Done != nil {
		stop := context.AfterFunc(d.Done, func() { s.close(websocket.StatusNormalClosure, "server shutting down") })
		s.onEnd(func() { stop() })
	}
	go func() {
		// The transport ends the socket (wsTransport.Do); this is for the case where
		// gqlgen could not hand it over.
		defer func() {
			if !s.served.Load() {
				s.end()
			}
		}()
		gql.ServeHTTP(noResponse{}, req)
	}()
}

// originPatterns turns CORS origins (https://app.example.com) into the host
// patterns coder/websocket checks the Origin header against. No origins: same-origin
// only (coder/websocket's default).
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
		out = append(out, strings.TrimRight(o, "/"))
	}
	return out
}

// noResponse stands for the response of an upgrade that has been answered already;
// gqlgen writes to it only if it fails before using the socket.
type noResponse struct{}

func (noResponse) Header() http.Header         { return http.Header{} }
func (noResponse) Write(b []byte) (int, error) { return len(b), nil }
func (noResponse) WriteHeader(int)             {}
