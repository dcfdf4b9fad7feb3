package server

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// authFields are the root fields that check a password or a secret token, or create
// an account. Each costs a bcrypt comparison or a row, so aliases must not multiply
// them within one request: the rate limit counts requests' attempts one by one, but
// an operation of 200 aliases would run all of them before it could stop them.
// Fields not in the schema (yet) are simply never found.
var authFields = []string{"login", "signup", "acceptInvitation", "refreshSession", "changePassword"}

// oneAuthField refuses, before anything runs, an operation that selects more than
// one of authFields (counted by response name, so the same field repeated under one
// name, which GraphQL merges into one call, counts once).
type oneAuthField struct{ fields []string }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = oneAuthField{}

// ExtensionName implements graphql.HandlerExtension.
func (oneAuthField) ExtensionName() string { return "OneAuthField" }

// Validate implements graphql.HandlerExtension.
func (oneAuthField) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation with two or more authentication fields.
func (o oneAuthField) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	seen := map[string]bool{}
	o.collect(oc.Operation.SelectionSet, oc.Doc, seen, 0)
	if len(seen) <= 1 {
		return nil
	}
	err := gqlerror.Errorf("an operation may hold at most one of %s", strings.Join(o.fields, ", "))
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
	return err
}

// collect records the response names of the root fields in set that are
// authentication fields, through fragment spreads and inline fragments. Skip and
// include directives are not evaluated: a field that might run counts.
func (o oneAuthField) collect(set ast.SelectionSet, doc *ast.QueryDocument, seen map[string]bool, depth int) {
	if depth > 64 { // fragments cannot cycle (validation refuses it); a guard anyway
		return
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if slices.Contains(o.fields, s.Name) {
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				seen[key] = true
			}
		case *ast.InlineFragment:
			o.collect(s.SelectionSet, doc, seen, depth+1)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil {
				o.collect(f.SelectionSet, doc, seen, depth+1)
			}
		}
	}
}
