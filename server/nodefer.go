package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// noDefer refuses operations that use @defer. gqlgen's schema prelude declares the
// directive, so such an operation validates, but our transports answer a POST, a GET
// or a websocket message with one result: the deferred fields' values would go
// nowhere and the answer would show them as null, as if there were no data. A clear
// error instead (BAD_USER_INPUT), until a transport delivers incremental results.
type noDefer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noDefer{}

// ExtensionName implements graphql.HandlerExtension.
func (noDefer) ExtensionName() string { return "NoDefer" }

// Validate implements graphql.HandlerExtension.
func (noDefer) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation with @defer anywhere in it, its
// fragments included.
func (noDefer) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !usesDefer(oc.Operation.SelectionSet, oc.Doc, map[string]bool{}) {
		return nil
	}
	err := gqlerror.Errorf("@defer is not supported: ask for the fields without it")
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
	return err
}

func usesDefer(set ast.SelectionSet, doc *ast.QueryDocument, seen map[string]bool) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if usesDefer(s.SelectionSet, doc, seen) {
				return true
			}
		case *ast.InlineFragment:
			if s.Directives.ForName("defer") != nil || usesDefer(s.SelectionSet, doc, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Directives.ForName("defer") != nil {
				return true
			}
			if f := doc.Fragments.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				if usesDefer(f.SelectionSet, doc, seen) {
					return true
				}
			}
		}
	}
	return false
}
