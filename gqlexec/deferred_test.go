package gqlexec

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The group is built exactly when one of the object's fields is deferred: then
// ResolveConcurrently has a field set and a map to add it to.
func TestDeferredGroup(t *testing.T) {
	ctx := context.Background()
	plain := []graphql.CollectedField{{Field: &ast.Field{Alias: "a"}}, {Field: &ast.Field{Alias: "b"}}}
	if g := DeferredGroup(ctx, plain); g.FieldSet != nil || g.Defers != nil {
		t.Fatalf("a group was built for fields none of which is deferred: %+v", g)
	}
	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Alias: "c"}, Deferrables: []*graphql.Deferrable{{Label: "later"}}})
	if g := DeferredGroup(ctx, deferred); g.FieldSet == nil || g.Defers == nil {
		t.Fatalf("no group for a deferred field: %+v", g)
	}
}
