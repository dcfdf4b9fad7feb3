// Package workgate lets a fixed number of requests work at once and queues the rest
// in arrival order.
//
// On a machine whose few cores the server shares with PostgreSQL, thirty requests
// working at once do not finish sooner than eight: they take turns on the same
// cores, each waits for the others at every step (its goroutines, its PostgreSQL
// backend, the collector), and which one finishes last is down to chance. The
// slowest hundredth of the answers then waits three to four times the mean. A gate
// lets n requests work and queues the others first come, first served (Go's
// connection pool hands a freed connection to a random waiter, so a small pool
// alone makes the tail longer, not shorter): the same work gets done at the same
// rate, and a request's wait is the queue ahead of it, not a lottery.
//
// A request that waits on something other than this machine (a provider's API)
// steps outside the gate for that wait (Outside), so a stalled provider cannot
// hold the gate's places.
package workgate

import (
	"container/list"
	"context"
	"sync"
)

// Gate admits n holders at once; the others wait in arrival order.
type Gate struct {
	mu      sync.Mutex
	n       int
	working int
	queue   list.List // of chan struct{}: closed when the place is handed over
}

// New returns a gate of n places (n >= 1).
func New(n int) *Gate {
	return &Gate{n: max(n, 1)}
}

// Enter waits for a place, in arrival order, or until ctx ends (then it returns
// ctx's error and holds no place). Every successful Enter is paired with one Leave.
func (g *Gate) Enter(ctx context.Context) error {
	g.mu.Lock()
	if g.working < g.n && g.queue.Len() == 0 {
		g.working++
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	e := g.queue.PushBack(turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-turn:
			// Handed a place just as ctx ended: pass it on.
			g.mu.Unlock()
			g.Leave()
		default:
			g.queue.Remove(e)
			g.mu.Unlock()
		}
		return ctx.Err()
	}
}

// Leave gives the place back: to the longest waiter, if any.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if front := g.queue.Front(); front != nil {
		g.queue.Remove(front)
		close(front.Value.(chan struct{}))
		return
	}
	g.working--
}

// Waiting is how many wait for a place now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queue.Len()
}

// Working is how many hold a place now.
func (g *Gate) Working() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.working
}

type ctxKey struct{}

// held is what a request's context carries: the gate it holds a place in.
type held struct{ g *Gate }

// With returns ctx marked as holding a place in g (after g.Enter).
func With(ctx context.Context, g *Gate) context.Context {
	return context.WithValue(ctx, ctxKey{}, held{g})
}

// Outside runs fn without ctx's place in its gate, if it holds one: it leaves
// before fn and enters again, at the back of the queue, after: for waits on other
// machines (a provider's API), not for work. It enters again even if ctx has ended
// (the request's owner leaves once, when it is done).
func Outside[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	h, ok := ctx.Value(ctxKey{}).(held)
	if !ok {
		return fn()
	}
	h.g.Leave()
	defer func() { _ = h.g.Enter(context.WithoutCancel(ctx)) }()
	return fn()
}
