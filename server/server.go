// Package server builds CONNECTME's HTTP handler: middleware, the legacy REST paths,
// GraphQL and the playground, health checks.
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/rest"
	"github.com/connectme/connectme/server/playground"
	"github.com/connectme/connectme/twilio"
)

// Deps is what the HTTP handler is built from.
type Deps struct {
	Config   *config.Config
	DB       *bun.DB
	Resolver *resolvers.Resolver
	Log      *slog.Logger
	// Bus is this instance's event listener (its health shows in /readyz).
	Bus *events.Bus
	// Done, when cancelled, closes every websocket cleanly (graceful shutdown).
	Done context.Context
	// Sockets tracks the open websockets; the owner drains it at shutdown, after
	// cancelling Done, to wait for their close frames. New makes one when nil.
	Sockets *SocketGroup
	// Metrics receives the request, GraphQL and webhook counts and serves /metrics;
	// nil serves no /metrics.
	Metrics *metrics.Metrics

	// wsCaps counts the open websockets per agent and address (New sets it).
	wsCaps *wsCaps
}

// rootHandler is New's handler: the router, and the request bodies still arriving,
// which HTTPServer's shutdown cuts short.
type rootHandler struct {
	chi.Router // so that tests and tools can walk its routes
	reads      *bodyReads
}

// New returns the whole HTTP handler of one instance. Bodies are read (ordinary
// ones) or admitted to the upload pool before a request takes a concurrency slot,
// so the principal is known before the slot is taken.
func New(d Deps) http.Handler {
	reads := &bodyReads{}
	r := chi.NewRouter()
	r.Use(requestID, httpMetrics(d.Metrics), accessLog(d.Log), recoverer(d.Log), securityHeaders,
		corsFor(d.Config.CORSOrigins), clientAddress(d.Config, d.Log), authenticate(d.Resolver.Tokens), connectionDeadlines,
		bufferBodies(d.Config.BodyTimeout, reads), limitConcurrency(d.Config.MaxConcurrentRequests, d.Metrics),
		limitUploads(d.Config.UploadsPerAgent, reads), requestTimeout(d.Config.RequestTimeout),
		gateWork(d.Config.WorkPlaces(), d.Config.RequestTimeout, d.Metrics))
	r.NotFound(rest.NotFoundHandler)
	r.MethodNotAllowed(rest.MethodNotAllowedHandler)

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		status := readiness{Status: "ok", Database: "ok", Events: "ok"}
		if err := db.Ping(ctx, d.DB); err != nil {
			d.Log.WarnContext(req.Context(), "readiness check failed", "err", err.Error())
			status.Status, status.Database = "unavailable", "unreachable"
		}
		if d.Bus != nil {
			if ok, why := d.Bus.Healthy(); !ok {
				status.Status, status.Events = "unavailable", why
			}
		}
		code := http.StatusOK
		if status.Status != "ok" {
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(status)
	})

	if d.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", metricsHandler(d.Metrics, d.Config.MetricsToken))
	}

	d.wsCaps = newWSCaps(d.Config)
	if d.Sockets == nil {
		d.Sockets = NewSocketGroup()
	}
	gql := newGraphQL(d)
	r.Handle("/graphql", gql)
	if d.Config.Playground {
		// GraphiQL from assets embedded in the binary: no CDN, works offline.
		pg := playground.Handler()
		r.Handle(playground.Path, pg)
		r.Handle(playground.Path+"/*", pg)
	}

	api := &rest.API{R: d.Resolver, Log: d.Log,
		Webhooks: twilio.Verifier{AuthToken: d.Config.TwilioAuthToken, PublicBaseURL: d.Config.PublicBaseURL},
		Metrics:  d.Metrics}
	api.Routes(r)
	return &rootHandler{Router: r, reads: reads}
}

type readiness struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Events   string `json:"events"`
}

// authenticate puts the principal of a valid bearer token into the context. It does
// not refuse anonymous requests: REST routes and GraphQL fields that need an agent do.
// A refused token leaves its reason in the context for their answer.
func authenticate(tokens *auth.Tokens) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok := auth.BearerToken(r.Header.Get("Authorization")); tok != "" {
				if p, err := tokens.Parse(tok); err == nil {
					r = r.WithContext(auth.WithPrincipal(r.Context(), p))
				} else {
					// Still anonymous; an UNAUTHENTICATED answer says why (an expired
					// token is refreshed, an ended session signs in again).
					r = r.WithContext(auth.WithRefusal(r.Context(), auth.Reason(err)))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
