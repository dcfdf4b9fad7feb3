package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/rest"
)

// httpMetrics records every request by chi's route pattern (never the raw path, whose
// ids would make a series per conversation). Websockets are counted apart, for as
// long as they are open (serveWebsocket).
func httpMetrics(m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if m == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocket(r) && r.URL.Path == "/graphql" {
				next.ServeHTTP(w, r)
				return
			}
			m.RequestStarted()
			defer m.RequestDone()
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
				route = rctx.RoutePattern()
			}
			m.ObserveHTTP(r.Method, route, ww.Status(), time.Since(start))
		})
	}
}

// isWebsocket reports a websocket upgrade (GraphQL subscriptions).
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// metricsHandler serves /metrics, behind METRICS_TOKEN when one is set.
func metricsHandler(m *metrics.Metrics, token string) http.Handler {
	h := m.Handler()
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := auth.BearerToken(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			rest.WriteError(w, r, nil, apperr.New(apperr.Unauthenticated, "Unauthorized"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// graphqlMetrics counts GraphQL operations by type, name and outcome. A query or
// mutation is counted when it is answered; a subscription when its first event (or
// its error) goes out, or when it ends without one; an operation refused before it
// ran (parse and validation errors, depth and complexity limits) when the refusal
// goes out.
type graphqlMetrics struct{ m *metrics.Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = graphqlMetrics{}

// operationRan marks the context of an operation graphqlMetrics already counts.
type operationRan struct{}

// ExtensionName implements graphql.HandlerExtension.
func (graphqlMetrics) ExtensionName() string { return "Metrics" }

// Validate implements graphql.HandlerExtension.
func (graphqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation counts an operation that runs, at its first response.
func (g graphqlMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opType, name := operationLabels(ctx)
	start := time.Now()
	responses := next(context.WithValue(ctx, operationRan{}, true))
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		once.Do(func() { g.m.ObserveGraphQL(opType, name, outcome(resp), time.Since(start)) })
		return resp
	}
}

// InterceptResponse counts a document refused before it ran (no operation ran).
func (g graphqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if ctx.Value(operationRan{}) == nil {
		opType, name := operationLabels(ctx)
		g.m.ObserveGraphQL(opType, name, outcome(resp), 0)
	}
	return resp
}

// operationLabels returns the operation's type and name, as far as they are known.
func operationLabels(ctx context.Context) (opType, name string) {
	opType = "unknown"
	if !graphql.HasOperationContext(ctx) {
		return opType, ""
	}
	oc := graphql.GetOperationContext(ctx)
	name = oc.OperationName
	if oc.Operation != nil {
		opType = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	return opType, name
}

// outcome is "ok", or the extensions.code of the response's first error.
func outcome(resp *graphql.Response) string {
	if resp == nil || len(resp.Errors) == 0 {
		return "ok"
	}
	code, _ := resp.Errors[0].Extensions["code"].(string)
	if !errorCode(code) {
		return "error"
	}
	return code
}

// errorCode reports a well-formed error code (codes are ours or gqlgen's; this keeps
// a label from ever carrying anything else).
func errorCode(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}
