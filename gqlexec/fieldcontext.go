package gqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// WithFieldContext is graphql.WithFieldContext(ctx, fc) for a copy of *fc: the
// context and the field context in one allocation instead of two, and, where
// the generated code made fc in the caller's frame (an inlined fieldContext_…
// function), none for fc itself. It gives the copy, which is what
// graphql.GetFieldContext finds in the context and what the caller must fill
// in (its Result). cmd/gqlgen's lean paths call it; MarshalSlice puts each
// element's index in one the same way.
func WithFieldContext(ctx context.Context, fc *graphql.FieldContext) (context.Context, *graphql.FieldContext) {
	c := &fieldContext{Context: ctx, fc: *fc}
	c.fc.Parent = graphql.GetFieldContext(ctx)
	return c, &c.fc
}

// fieldContext is a context carrying a field context, as gqlgen's (a
// context.WithValue under its key) carries one.
type fieldContext struct {
	context.Context
	fc    graphql.FieldContext
	index int // a list element's, which fc.Index points at
}

func (c *fieldContext) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// fieldContextKey is the key gqlgen keeps a field context under. It is not
// exported; graphql.GetFieldContext asks a context for it, so a context that
// notes what it is asked learns it.
var fieldContextKey = func() any {
	var p keyProbe
	graphql.GetFieldContext(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}
