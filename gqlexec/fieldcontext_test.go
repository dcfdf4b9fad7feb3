package gqlexec

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

type otherKey struct{}

// A field context put in by WithFieldContext is found as gqlgen's is, with its
// parent, its place in the path and the context's other values.
func TestWithFieldContext_AsGqlgen(t *testing.T) {
	if fieldContextKey == nil {
		t.Fatal("gqlgen's field context key was not learned")
	}
	base := context.WithValue(t.Context(), otherKey{}, "kept")
	parent := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "messages"}}}
	ctx := graphql.WithFieldContext(base, parent)

	fc := &graphql.FieldContext{Object: "MessageEdge", Field: graphql.CollectedField{Field: &ast.Field{Alias: "node"}}}
	ctx2, copied := WithFieldContext(ctx, fc)
	if got := graphql.GetFieldContext(ctx2); got != copied || got.Parent != parent || got.Object != "MessageEdge" {
		t.Fatalf("found %+v, want the copy under %+v", got, parent)
	}
	if ctx2.Value(otherKey{}) != "kept" {
		t.Error("another value of the context was lost")
	}
	// A list element's context under it, then a field gqlgen's own way.
	el := marshalOneContext(t, ctx2, 3)
	leaf := graphql.WithFieldContext(el, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "id"}}})
	if got := graphql.GetFieldContext(leaf).Path().String(); got != "messages.node[3].id" {
		t.Errorf("path %s, want messages.node[3].id", got)
	}
	// The original is left alone: the copy is what the context holds.
	copied.Result = "x"
	if fc.Result != nil || fc.Parent != nil {
		t.Errorf("the caller's field context changed: %+v", fc)
	}
	// A parent's cancellation reaches it.
	parentCtx, cancel := context.WithCancel(t.Context())
	under, _ := WithFieldContext(parentCtx, fc)
	cancel()
	select {
	case <-under.Done():
	default:
		t.Error("the parent's cancellation did not reach the field's context")
	}
	if under.Err() == nil {
		t.Error("the field's context has no error after its parent's cancellation")
	}
}

// marshalOneContext is the context marshalOne gives element i.
func marshalOneContext(t *testing.T, ctx context.Context, i int) context.Context {
	t.Helper()
	var got context.Context
	marshalOne(ctx, i, true, func(ctx context.Context, _ int) graphql.Marshaler {
		got = ctx
		return graphql.Null
	})
	return got
}

func TestWithFieldContext_OneAllocation(t *testing.T) {
	ctx := t.Context()
	allocs := testing.AllocsPerRun(100, func() {
		fc := &graphql.FieldContext{Object: "T"}
		c, _ := WithFieldContext(ctx, fc)
		_ = c
	})
	if allocs != 1 {
		t.Errorf("%v allocations, want 1", allocs)
	}
}
