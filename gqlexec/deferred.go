package gqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// DeferredGroup is graphql.NewDeferredGroup(ctx) for an object whose collected
// fields are fields, built only when one of them is @defer'd: the generated
// marshaler only ever adds those to the group (FieldSet.ResolveConcurrently), and
// otherwise reads its Defers' length, which the zero group gives as 0 without
// building the object's path, a field set and a map (cmd/gqlgen rewrites the
// call).
func DeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
