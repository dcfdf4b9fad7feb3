package workgate

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFirstComeFirstServed queues ten waiters one after the other behind a full
// gate and checks they get in in that order, however the scheduler runs them.
func TestFirstComeFirstServed(t *testing.T) {
	g := New(1)
	if err := g.Enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 10
	order := make(chan int, n)
	for i := range n {
		go func() {
			if err := g.Enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			order <- i
			g.Leave()
		}()
		waitFor(t, func() bool { return g.Waiting() == i+1 })
	}
	g.Leave()
	for want := range n {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("waiter %d got in %dth; want arrival order", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("waiter %d never got in", want)
		}
	}
	if w, q := g.Working(), g.Waiting(); w != 0 || q != 0 {
		t.Fatalf("after all left: working %d, waiting %d; want 0, 0", w, q)
	}
}

// TestNeverMoreThanN races many holders and checks that at most n are in at once
// and that all get in.
func TestNeverMoreThanN(t *testing.T) {
	const places, holders = 3, 200
	g := New(places)
	var in, most, done atomic.Int64
	var wg sync.WaitGroup
	for range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			now := in.Add(1)
			for {
				m := most.Load()
				if now <= m || most.CompareAndSwap(m, now) {
					break
				}
			}
			// Hold the place until every place is taken (or all the others are
			// through), so that holders overlap whatever the scheduler does.
			for in.Load() < places && in.Load()+done.Load() < holders {
				runtime.Gosched()
			}
			in.Add(-1)
			done.Add(1)
			g.Leave()
		}()
	}
	wg.Wait()
	if most.Load() > places {
		t.Fatalf("%d were in at once; the gate has %d places", most.Load(), places)
	}
	if most.Load() < 2 {
		t.Fatalf("at most %d were in at once; the gate should let %d work together", most.Load(), places)
	}
	if done.Load() != holders {
		t.Fatalf("%d of %d got in", done.Load(), holders)
	}
}

// TestGivingUp checks that a waiter whose context ends leaves the queue without
// taking a place, and that the places are still all there afterwards, also when
// the end races with a place being handed over.
func TestGivingUp(t *testing.T) {
	g := New(1)
	if err := g.Enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter on a full gate past its deadline = %v; want the deadline's error", err)
	}
	if g.Waiting() != 0 {
		t.Fatalf("the one who gave up still waits")
	}
	g.Leave()
	if g.Working() != 0 {
		t.Fatalf("working %d after the only holder left", g.Working())
	}

	// Cancel waiters while places are handed over: every place must come back.
	for range 200 {
		if err := g.Enter(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan error, 1)
		go func() { res <- g.Enter(ctx) }()
		waitFor(t, func() bool { return g.Waiting() == 1 })
		go cancel()
		g.Leave()
		if err := <-res; err == nil {
			g.Leave()
		}
		cancel()
		if w, q := g.Working(), g.Waiting(); w != 0 || q != 0 {
			t.Fatalf("after the race: working %d, waiting %d; want 0, 0", w, q)
		}
	}
}

// TestEnterFromContext checks Enter through a context: with a gate it takes a place
// and leave gives it back; without one it takes nothing.
func TestEnterFromContext(t *testing.T) {
	g := New(1)
	ctx := WithGate(context.Background(), g)
	leave, err := Enter(ctx)
	if err != nil || g.Working() != 1 {
		t.Fatalf("Enter with a gate: %v, working %d; want a place taken", err, g.Working())
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := Enter(short); err == nil {
		t.Fatal("Enter on the full gate got in before its deadline")
	}
	leave()
	if g.Working() != 0 {
		t.Fatalf("working %d after leave", g.Working())
	}
	leave, err = Enter(context.Background())
	if err != nil {
		t.Fatalf("Enter without a gate: %v", err)
	}
	leave()
	if g.Working() != 0 {
		t.Fatalf("a gateless leave changed the gate: working %d", g.Working())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMaxWait: a wait whose context has no deadline ends after MaxWait; one whose
// context has a deadline keeps it, however short MaxWait.
func TestMaxWait(t *testing.T) {
	g := New(1)
	g.MaxWait = 50 * time.Millisecond
	var refused atomic.Int32
	g.Refused = func() { refused.Add(1) }
	if err := g.Enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := g.Enter(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait without a deadline behind a held place: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %v, MaxWait 50ms", d)
	}
	if refused.Load() != 1 || g.Waiting() != 0 {
		t.Fatalf("refused %d, waiting %d", refused.Load(), g.Waiting())
	}
	// Its own deadline, later than MaxWait: it waits for the place.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() { got <- g.Enter(ctx) }()
	waitFor(t, func() bool { return g.Waiting() == 1 })
	select {
	case err := <-got:
		t.Fatalf("a wait with its own deadline ended within 4×MaxWait: %v", err)
	case <-time.After(4 * g.MaxWait):
	}
	g.Leave()
	if err := <-got; err != nil {
		t.Fatalf("a wait with its own deadline ended by MaxWait: %v", err)
	}
	g.Leave()
}

// TestTakeTimesTheTurn: a turn taken with Take is reported once it ends, with how
// long it waited for its place and how long it held it.
func TestTakeTimesTheTurn(t *testing.T) {
	type turn struct{ waited, held time.Duration }
	turns := make(chan turn, 2)
	g := New(1)
	g.Turns = func(waited, held time.Duration) { turns <- turn{waited, held} }

	start := time.Now()
	first, err := g.Take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Now()
	second := make(chan func(), 1)
	go func() {
		leave, err := g.Take(context.Background())
		if err != nil {
			t.Error(err)
			leave = func() {}
		}
		second <- leave
	}()
	waitFor(t, func() bool { return g.Waiting() == 1 })
	queued := time.Now()
	select {
	case <-second:
		t.Fatal("the second turn came while the first held the only place")
	default:
	}
	released := time.Now()
	first()
	a := <-turns
	if a.waited > took.Sub(start) || a.held < released.Sub(took) {
		t.Errorf("first turn: waited %v, held %v; want no more wait than Take took (%v) and at least %v held",
			a.waited, a.held, took.Sub(start), released.Sub(took))
	}
	leave := <-second
	leave()
	b := <-turns
	if b.waited < released.Sub(queued) {
		t.Errorf("second turn waited %v, want at least the %v it was seen queued behind the first", b.waited, released.Sub(queued))
	}
	select {
	case x := <-turns:
		t.Errorf("a turn reported twice: %+v", x)
	default:
	}
	if g.Working() != 0 {
		t.Errorf("working %d after both left", g.Working())
	}
}

// TestTakeWithoutTurns: without Turns, Take is Enter and Leave.
func TestTakeWithoutTurns(t *testing.T) {
	g := New(1)
	leave, err := g.Take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.Working() != 1 {
		t.Fatalf("working %d after Take, want 1", g.Working())
	}
	leave()
	if g.Working() != 0 {
		t.Fatalf("working %d after leave, want 0", g.Working())
	}
}
