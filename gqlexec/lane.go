package gqlexec

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Lane runs an object's resolver fields one after the other, at once, in the
// goroutine that marshals the object, for as long as they are quick; after a slow
// one, the rest of the object's go to FieldSet.ResolveConcurrently as gqlgen
// would have sent them all (cmd/gqlgen's laneFields puts a Lane in each object
// marshaler that has such fields; a @defer'd field always goes there).
//
// Why: gqlgen defers every resolver field of an object to its Dispatch, so that
// fields waiting for different loaders wait together. That costs a closure, a
// wrapper closure and a task list per object whatever the field does, and a
// message's resolver fields (attachments, sender, template, its conversation) are
// read from what its page brought along (resolvers/prefetch.go): quick. A field
// that waits (a loader's batch, a statement of its own) is slow, and the object's
// other fields then wait together as before: an object pays at most one such wait
// alone, as a list pays at most two (MarshalSlice, with the same threshold).
type Lane struct{ slow bool }

// Quick reports whether field runs in the lane: none has been slow yet and it is
// not deferred.
func (l *Lane) Quick(field graphql.CollectedField) bool { return !l.slow && !field.IsDeferred() }

// Resolve runs resolve, as FieldSet.ResolveConcurrently's task would (a panic,
// when recoverPanic, reported and null), and notes whether it was slow.
func (l *Lane) Resolve(ctx context.Context, oc *graphql.OperationContext, recoverPanic bool,
	resolve func(ctx context.Context) graphql.Marshaler) (m graphql.Marshaler) {
	if recoverPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				m = graphql.Null
			}
		}()
	}
	start := time.Now()
	m = resolve(ctx)
	if time.Since(start) > slowElement {
		l.slow = true
	}
	return m
}
