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
package workgate

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Gate admits n holders at once; the others wait in arrival order.
type Gate struct {
	// Refused, when set, is called for every Enter that gives up (its context
	// ended first).
	Refused func()
	// MaxWait, when positive, ends a wait after that long at the latest if its
	// context has no deadline of its own: a request let off its time limit (an
	// upload) must not wait for its turn without end.
	MaxWait time.Duration
	// Turns, when set, is told of every turn taken with Take once it ends: how
	// long it waited for its place and how long it held it.
	Turns func(waited, held time.Duration)

	mu      sync.Mutex
	n       int
	working int
	queue   list.List // of chan struct{}: closed when the place is handed over
}

// New returns a gate of n places (n >= 1).
func New(n int) *Gate {
	return &Gate{n: max(n, 1)}
}

// Enter waits for a place, in arrival order, or until ctx ends or MaxWait passes
// (then it returns the context's error and holds no place). Every successful Enter
// is paired with one Leave.
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
	if _, ok := ctx.Deadline(); !ok && g.MaxWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.MaxWait)
		defer cancel()
	}
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
		if g.Refused != nil {
			g.Refused()
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

// Take is Enter with the turn's timings: leave gives the place back and tells
// Turns how long the turn waited and held it. leave must be called once.
func (g *Gate) Take(ctx context.Context) (leave func(), err error) {
	start := time.Now()
	if err := g.Enter(ctx); err != nil {
		return nil, err
	}
	if g.Turns == nil {
		return g.Leave, nil
	}
	got := time.Now()
	return func() {
		g.Leave()
		g.Turns(got.Sub(start), time.Since(got))
	}, nil
}

type ctxKey struct{}

// WithGate returns ctx carrying g, for a handler that decides later whether its
// request takes a turn (Enter).
func WithGate(ctx context.Context, g *Gate) context.Context {
	return context.WithValue(ctx, ctxKey{}, g)
}

// Enter takes a place in ctx's gate (WithGate) as Take does, waiting in arrival
// order until ctx ends; leave gives it back. Without a gate it takes nothing and
// leave does nothing.
func Enter(ctx context.Context) (leave func(), err error) {
	g, _ := ctx.Value(ctxKey{}).(*Gate)
	if g == nil {
		return func() {}, nil
	}
	return g.Take(ctx)
}
