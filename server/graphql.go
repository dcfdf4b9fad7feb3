package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/gqlexec"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/resolvers/gql"
)

// GraphQL protection limits.
const (
	// maxQueryDepth bounds how deeply selections nest.
	maxQueryDepth = 12
	// maxComplexity bounds the estimated cost of an operation; a connection costs
	// its page size times the cost of its nodes.
	maxComplexity = 5000
	// maxGraphQLBody bounds a GraphQL request (uploads have their own limit).
	maxGraphQLBody = 256 << 10
	// maxQueryTokens bounds the lexer: validation cost grows faster than linearly
	// with a document's size, so huge documents are refused before they are checked.
	maxQueryTokens = 5000
)

// newGraphQL builds the gqlgen server with its transports and protections.
func newGraphQL(d Deps) http.Handler {
	gqlResolver := gql.New(d.Resolver)
	srv := handler.New(gqlResolver.Schema())
	srv.AddTransport(websocketTransport(d))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(graphQLHTTP{}) // GET and POST as GraphQL over HTTP says: graphql_http.go
	// Uploads stream from the request into storage: graphql_multipart.go.
	srv.AddTransport(graphQLMultipart{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(maxQueryTokens)
	if d.Config.GraphQLIntrospection {
		use(srv, extension.Introspection{})
	} else {
		hideSchema(srv) // introspection.go
	}
	use(srv, extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	use(srv, &gqlexec.ComplexityLimit{Limit: maxComplexity, Costs: gql.Costs})
	use(srv, depthLimit{max: maxQueryDepth})
	use(srv, noDefer{})
	use(srv, oneAuthField{fields: authFields})
	if d.Metrics != nil {
		use(srv, graphqlMetrics{d.Metrics})
	}
	srv.SetErrorPresenter(gqlResolver.PresentError)
	srv.SetRecoverFunc(gqlResolver.RecoverPanic)
	// Fresh loaders for every response: per request for queries and mutations, per
	// event for subscriptions (a socket-long cache would serve stale rows).
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if p := auth.FromContext(ctx); p != nil {
			ctx = resolvers.WithLoaders(ctx, d.Resolver.NewLoaders(p.CompanyID))
		}
		return next(ctx)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			serveWebsocket(d, srv, w, r)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, maxGraphQLBody)
			if r.Method == http.MethodPost && !readGraphQLBody(w, r) {
				return
			}
		} else if auth.FromContext(r.Context()) == nil {
			// Only an agent may upload: refuse before reading a byte of the file.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"errors":[{"message":"Unauthorized","extensions":{"code":"UNAUTHENTICATED"}}]}` + "\n"))
			return
		}
		srv.ServeHTTP(w, r)
	})
}

// use registers a handler extension. The generated executor answers a scalar read
// from a struct field without gqlgen's field middleware (cmd/gqlgen/direct.go), so
// a field interceptor would silently miss those fields: use refuses one, and
// nothing here calls srv.AroundFields (a test checks both).
func use(srv *handler.Server, ext graphql.HandlerExtension) {
	if _, ok := ext.(graphql.FieldInterceptor); ok {
		panic(fmt.Sprintf("graphql extension %s intercepts fields, which the executor's direct fields skip (cmd/gqlgen/direct.go)", ext.ExtensionName()))
	}
	srv.Use(ext)
}

// readGraphQLBody reads a POST body within maxGraphQLBody, so that an oversized one
// is a 413 (gqlgen would answer 200 with an error), and hands it on in memory. It
// reports false when it has answered the request itself.
func readGraphQLBody(w http.ResponseWriter, r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeGraphQLError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body is larger than %d bytes", maxGraphQLBody), "BAD_USER_INPUT")
		return false
	case err != nil:
		writeGraphQLError(w, http.StatusBadRequest, "request body could not be read", "BAD_USER_INPUT")
		return false
	}
	if !strictGraphQLBody(w, body) { // jsoncheck.go
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// depthLimit refuses operations whose selections nest deeper than max.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (depthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation nested deeper than the limit.
func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc, 0); depth > d.max {
		err := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.max)
		err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, doc *ast.QueryDocument, seen int) int {
	if seen > 64 {
		return seen
	}
	max := seen
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			switch {
			case len(s.SelectionSet) == 0:
				d = seen + 1
			case s.Name == "ofType" && s.ObjectDefinition != nil && s.ObjectDefinition.Name == "__Type":
				// __Type.ofType unwraps list and non-null wrappers: its chain ends
				// after a few steps whatever the query asks, so it costs no depth.
				// Without this, the standard introspection query (GraphiQL's docs,
				// codegen tools) nests 15 levels deep and is refused.
				d = selectionDepth(s.SelectionSet, doc, seen)
			default:
				d = selectionDepth(s.SelectionSet, doc, seen+1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, doc, seen)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil {
				d = selectionDepth(f.SelectionSet, doc, seen)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}
