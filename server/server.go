// Package server builds CONNECTME's HTTP handler: middleware, the legacy REST paths,
// GraphQL and the playground, health checks.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/rest"
	"github.com/connectme/connectme/twilio"
)

// Deps is what the HTTP handler is built from.
type Deps struct {
	Config   *config.Config
	DB       *bun.DB
	Resolver *resolvers.Resolver
	Log      *slog.Logger
}

// New returns the whole HTTP handler of one instance.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.Log), recoverer(d.Log), clientAddr, authenticate(d.Resolver.Tokens))
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
		if err := db.Ping(ctx, d.DB); err != nil {
			d.Log.WarnContext(req.Context(), "readiness check failed", "err", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","database":"unreachable"}` + "\n"))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok","database":"ok"}` + "\n"))
	})

	gql := newGraphQL(d)
	r.Handle("/graphql", gql)
	if d.Config.Playground {
		r.Handle("/playground", playground.Handler("CONNECTME", "/graphql"))
	}

	api := &rest.API{R: d.Resolver, Log: d.Log,
		Webhooks: twilio.Verifier{AuthToken: d.Config.TwilioAuthToken, PublicBaseURL: d.Config.PublicBaseURL}}
	api.Routes(r)
	return r
}

// newGraphQL builds the gqlgen server with its transports and protections.
func newGraphQL(d Deps) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: d.Resolver}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if d.Config.GraphQLIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.SetErrorPresenter(d.Resolver.PresentError)
	srv.SetRecoverFunc(d.Resolver.RecoverPanic)
	return srv
}

// authenticate puts the principal of a valid bearer token into the context. It does
// not refuse anonymous requests: REST routes and GraphQL fields that need an agent do.
func authenticate(tokens *auth.Tokens) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok := auth.BearerToken(r.Header.Get("Authorization")); tok != "" {
				if p, err := tokens.Parse(tok); err == nil {
					r = r.WithContext(auth.WithPrincipal(r.Context(), p))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
