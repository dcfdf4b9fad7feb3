package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// hideSchema keeps the schema to itself when introspection is off (production's
// default): validation errors stop suggesting names ("Did you mean …" would spell
// the schema out field by field), and an introspection query is refused as the
// client's error before it runs. gqlgen would run it and fail it with a plain error,
// which the error presenter reports as INTERNAL and logs as a server fault.
func hideSchema(srv *handler.Server) {
	// SetDisableSuggestion swaps only two of the suggesting rules (and swaps them
	// back in the rules it is given when false), so both are needed.
	srv.SetDisableSuggestion(true)
	srv.SetValidationRulesFn(silentRules)
	use(srv, noIntrospection{})
}

// silentRules is gqlparser's default rule set with every rule that suggests names
// replaced by its variant that does not.
func silentRules() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, quiet := range []core.Rule{
		rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
		rules.ScalarLeafsRuleWithoutSuggestions,
		rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.RemoveRule(quiet.Name[:len(quiet.Name)-len("WithoutSuggestions")])
		r.AddRule(quiet.Name, quiet.RuleFunc)
	}
	return r
}

// noIntrospection refuses operations that select __schema or __type.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

// ExtensionName implements graphql.HandlerExtension.
func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate implements graphql.HandlerExtension.
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an introspection query with a validation error, as a
// schema that has no introspection fields would.
func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !selectsIntrospection(oc.Operation.SelectionSet, oc.Doc, 0) {
		return nil
	}
	err := gqlerror.Errorf("GraphQL introspection is not allowed on this server")
	err.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
	return err
}

// selectsIntrospection reports whether a root selection set (through its fragments)
// asks for __schema or __type; those exist only on the query root.
func selectsIntrospection(set ast.SelectionSet, doc *ast.QueryDocument, depth int) bool {
	if depth > 64 {
		return false
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if selectsIntrospection(s.SelectionSet, doc, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && selectsIntrospection(f.SelectionSet, doc, depth+1) {
				return true
			}
		}
	}
	return false
}
