package gqlexec

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestLane(t *testing.T) {
	defer func(d time.Duration) { slowElement = d }(slowElement)
	slowElement = time.Second
	ctx := responseContext(t)
	oc := &graphql.OperationContext{RecoverFunc: func(context.Context, any) error { return errors.New("internal system error") }}
	var l Lane
	field := graphql.CollectedField{Field: &ast.Field{Alias: "f"}}
	if !l.Quick(field) {
		t.Fatal("a fresh lane is not quick")
	}
	answer := Bool(true)
	if got := l.Resolve(ctx, oc, true, func(ctx context.Context) graphql.Marshaler { return answer }); got != answer {
		t.Errorf("resolved %v", got)
	}
	// A panic is an error and null when the field recovers.
	if got := l.Resolve(ctx, oc, true, func(ctx context.Context) graphql.Marshaler { panic(errors.New("boom")) }); got != graphql.Null {
		t.Errorf("a panic resolved to %v", got)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 {
		t.Errorf("errors %v, want the panic's", errs)
	}
	// A deferred field is never in the lane.
	deferredField := graphql.CollectedField{Field: &ast.Field{Alias: "d"}, Deferrables: []*graphql.Deferrable{{Label: "l"}}}
	if l.Quick(deferredField) {
		t.Error("a deferred field ran in the lane")
	}
	// A slow field closes the lane to the object's other fields.
	slowElement = -1
	l.Resolve(ctx, oc, false, func(ctx context.Context) graphql.Marshaler { return answer })
	if l.Quick(field) {
		t.Error("the lane stayed open after a slow field")
	}
}
