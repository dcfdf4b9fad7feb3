// Package gqlexec holds what the generated GraphQL executor (graph/) calls at run
// time beside gqlgen's own runtime: cmd/gqlgen, our gqlgen, points the generated
// list marshalers at MarshalSlice.
package gqlexec

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// slowElement is how long one list element may take to marshal before MarshalSlice
// stops going through the list in order. An element whose fields are all at hand
// (a page's rows, with their relations brought along by the page's own statements)
// takes a few microseconds; one that waits for a loader's batch takes at least the
// loader's wait (a millisecond) and one that runs a statement of its own takes a
// round trip to PostgreSQL.
var slowElement = 100 * time.Microsecond

// MarshalSlice marshals the elements of a list one after the other, in the calling
// goroutine, as long as they are quick; after two slow ones in a row, it marshals
// the rest concurrently, a goroutine each, as gqlgen's MarshalSliceConcurrently
// does for every element. It takes MarshalSliceConcurrently's arguments and gives
// the same answer: each element has its own field context (its index in the path
// of an error) and, unless omitPanicHandler, a panic in one element becomes an
// error and a null there.
//
// Why: gqlgen starts a goroutine for every element of every list of objects, so that
// elements whose fields wait (for a dataloader's batch, say) wait together. Our lists
// bring their elements' relations along (resolvers/prefetch.go), so their elements
// never wait, and the goroutines were pure cost: their start, the growth of their
// stacks and their scheduling were about a tenth of the CPU of a GraphQL page
// (BENCHMARKS.md). When an element does wait (a relation no prefetch covers), the
// first two to wait cost a loader wait each and the others still wait together.
//
// Two in a row, not one: the time is the wall clock's, and under load a quick
// element is now and then slow because its goroutine or thread was descheduled
// or helped the collector, and the rest of its page paid a goroutine each for
// nothing: in-process, with 16 requests at once, 5-7 % of conversation pages went
// concurrent with the rule of one slow element, 0.03-0.05 % with two in a row. An
// element that waits for a loader or a statement waits every time, so its next
// one is slow too.
func MarshalSlice(ctx context.Context, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	slow := false
	for i := range length {
		start := time.Now()
		ret[i] = marshalOne(ctx, i, omitPanicHandler, marshalElement)
		if time.Since(start) <= slowElement {
			slow = false
			continue
		}
		if slow && i+1 < length {
			marshalConcurrently(ctx, ret, i+1, workerLimit, omitPanicHandler, marshalElement)
			break
		}
		slow = true
	}
	return ret
}

// marshalOne marshals element i under its own field context (with the index it
// points at, and the context carrying it: one allocation).
func marshalOne(ctx context.Context, i int, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	c := &fieldContext{Context: ctx, index: i}
	c.fc.Index = &c.index
	c.fc.Parent = graphql.GetFieldContext(ctx)
	ctx = c
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				m = graphql.Null
			}
		}()
	}
	return marshalElement(ctx, i)
}

// marshalConcurrently marshals ret[from:], a goroutine each, at most workerLimit at
// a time when it is positive.
func marshalConcurrently(ctx context.Context, ret graphql.Array, from int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) {
	var wg sync.WaitGroup
	var slots chan struct{}
	if workerLimit > 0 {
		slots = make(chan struct{}, workerLimit)
	}
	for i := from; i < len(ret); i++ {
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				graphql.AddError(ctx, ctx.Err())
				for j := i; j < len(ret); j++ {
					ret[j] = graphql.Null
				}
				wg.Wait()
				return
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if slots != nil {
				defer func() { <-slots }()
			}
			ret[i] = marshalOne(ctx, i, omitPanicHandler, marshalElement)
		}()
	}
	wg.Wait()
}

// EmptyArray is an empty list's answer, "[]": what a list marshaler gives for no
// element (cmd/gqlgen puts it in front of MarshalSlice).
var EmptyArray graphql.Marshaler = graphql.Array{}
