package server

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/resolvers"
)

// Websocket settings.
const (
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
// /graphql. The token travels in connection_init; a missing or bad one closes the
// socket with 4403. The connection ends when its token expires and when the server
// shuts down.
func websocketTransport(d Deps) transport.Websocket {
	limit := int64(wsReadLimit)
	origins := d.Config.CORSOrigins
	if len(origins) == 0 {
		origins = nil // same-origin only (coder/websocket's default)
	}
	return transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: originPatterns(origins),
		}},
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive,
		PingPongInterval:      wsKeepAlive,
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, init transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			tok := auth.BearerToken(init.Authorization())
			p, err := d.Resolver.Tokens.Parse(tok)
			if tok == "" || err != nil {
				ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
				return transport.AppendCloseReason(ctx, "Forbidden"), nil, errForbidden
			}
			ctx = auth.WithPrincipal(ctx, p)
			ctx = resolvers.WithSocket(ctx)
			// The socket lives no longer than its token, nor than the server. AfterFunc
			// rather than a waiting goroutine: with 10,000 sockets open, every
			// goroutine per socket costs tens of megabytes.
			ctx, cancel := context.WithDeadline(ctx, p.ExpiresAt)
			if d.Done != nil {
				stop := context.AfterFunc(d.Done, cancel)
				context.AfterFunc(ctx, func() { stop() })
			}
			context.AfterFunc(ctx, cancel)
			return ctx, nil, nil
		},
	}
}

// originPatterns turns CORS origins (https://app.example.com) into the host
// patterns coder/websocket checks the Origin header against.
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
		out = append(out, strings.TrimRight(o, "/"))
	}
	return out
}
