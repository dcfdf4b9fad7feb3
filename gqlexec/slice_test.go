package gqlexec

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// responseContext is a context as gqlgen's executor gives a list marshaler: one that
// collects errors, under the list field's own field context.
func responseContext(t *testing.T) context.Context {
	t.Helper()
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(context.Context, any) error { return errors.New("internal system error") })
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{}})
}

// element records what marshalElement saw and answers the element's index.
type element struct {
	running, most atomic.Int32
	indexes       []int
	mu            sync.Mutex
}

func (e *element) marshal(pause func(i int)) func(ctx context.Context, i int) graphql.Marshaler {
	return func(ctx context.Context, i int) graphql.Marshaler {
		n := e.running.Add(1)
		defer e.running.Add(-1)
		for {
			m := e.most.Load()
			if n <= m || e.most.CompareAndSwap(m, n) {
				break
			}
		}
		e.mu.Lock()
		e.indexes = append(e.indexes, *graphql.GetFieldContext(ctx).Index)
		e.mu.Unlock()
		if pause != nil {
			pause(i)
		}
		return graphql.MarshalInt(i)
	}
}

func checkAnswer(t *testing.T, ret graphql.Array, n int) {
	t.Helper()
	if len(ret) != n {
		t.Fatalf("got %d elements, want %d", len(ret), n)
	}
	for i, m := range ret {
		var b strings.Builder
		m.MarshalGQL(&b)
		if b.String() != strconv.Itoa(i) {
			t.Errorf("element %d is %s", i, b.String())
		}
	}
}

func TestMarshalSlice_QuickElementsOneAfterTheOther(t *testing.T) {
	// Quick here means under a second: the race detector and a loaded machine make
	// a few microseconds' work take a hundred now and then.
	defer func(d time.Duration) { slowElement = d }(slowElement)
	slowElement = time.Second
	var e element
	ret := MarshalSlice(responseContext(t), 50, 0, false, e.marshal(nil))
	checkAnswer(t, ret, 50)
	e.checkOneAfterTheOther(t)
}

// checkOneAfterTheOther fails unless the elements ran one at a time, in order,
// each with its own index in its field context.
func (e *element) checkOneAfterTheOther(t *testing.T) {
	t.Helper()
	if e.most.Load() != 1 {
		t.Fatalf("%d elements ran at once; they must run one after the other", e.most.Load())
	}
	for i, idx := range e.indexes {
		if idx != i {
			t.Fatalf("element %d ran as index %d: order or field context wrong (%v)", i, idx, e.indexes)
		}
	}
}

// everyElementSlow makes every element count as slow for the rest of the test, as
// an element that waits for a loader would, without waiting.
func everyElementSlow(t *testing.T) {
	t.Helper()
	old := slowElement
	slowElement = -1
	t.Cleanup(func() { slowElement = old })
}

func TestMarshalSlice_AfterTwoSlowElementsTheRestRunTogether(t *testing.T) {
	everyElementSlow(t)
	const n = 10
	var e element
	var arrived atomic.Int32
	all := make(chan struct{})
	pause := func(i int) {
		if i > 1 {
			// Each of the other eight waits until all eight run: only concurrent
			// marshaling gets past this.
			if arrived.Add(1) == n-2 {
				close(all)
			}
			select {
			case <-all:
			case <-time.After(5 * time.Second):
				t.Errorf("element %d waited for the others in vain: the rest did not run concurrently", i)
			}
		}
	}
	ret := MarshalSlice(responseContext(t), n, 0, false, e.marshal(pause))
	checkAnswer(t, ret, n)
	if e.most.Load() != n-2 {
		t.Fatalf("at most %d elements ran at once, want %d", e.most.Load(), n-2)
	}
	seen := map[int]bool{}
	for _, idx := range e.indexes {
		seen[idx] = true
	}
	if len(seen) != n {
		t.Fatalf("field context indexes %v: want each of 0..%d once", e.indexes, n-1)
	}
}

// A quick list with one slow element among its quick ones (a goroutine
// descheduled under load) stays in order in one goroutine.
func TestMarshalSlice_OneSlowElementAloneChangesNothing(t *testing.T) {
	defer func(d time.Duration) { slowElement = d }(slowElement)
	slowElement = 200 * time.Millisecond
	var e element
	pause := func(i int) {
		if i == 3 || i == 7 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	ret := MarshalSlice(responseContext(t), 12, 0, false, e.marshal(pause))
	checkAnswer(t, ret, 12)
	e.checkOneAfterTheOther(t)
}

func TestMarshalSlice_WorkerLimitBoundsTheConcurrentRest(t *testing.T) {
	everyElementSlow(t)
	var e element
	// Elements 2 to 4 take the three workers and wait until all three run, so the
	// limit is reached; a later element may start only once one of them is done.
	var arrived, done atomic.Int32
	three := make(chan struct{})
	pause := func(i int) {
		if i > 4 && done.Load() == 0 {
			t.Errorf("element %d started while the three workers were busy", i)
		}
		if i < 2 || i > 4 {
			return
		}
		defer done.Add(1)
		if arrived.Add(1) == 3 {
			close(three)
		}
		select {
		case <-three:
		case <-time.After(5 * time.Second):
			t.Errorf("element %d waited in vain for three to run at once", i)
		}
	}
	ret := MarshalSlice(responseContext(t), 12, 3, false, e.marshal(pause))
	checkAnswer(t, ret, 12)
	if m := e.most.Load(); m != 3 {
		t.Fatalf("at most %d elements ran at once with a worker limit of 3", m)
	}
}

func TestMarshalSlice_PanicBecomesNullAndError(t *testing.T) {
	for _, slowFirst := range []bool{false, true} {
		if slowFirst {
			everyElementSlow(t)
		}
		ctx := responseContext(t)
		ret := MarshalSlice(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
			if i == 2 {
				panic("element two broke")
			}
			return graphql.MarshalInt(i)
		})
		if ret[2] != graphql.Null {
			t.Errorf("slowFirst=%v: the element that panicked is %v, want null", slowFirst, ret[2])
		}
		if ret[3] == graphql.Null || ret[1] == graphql.Null {
			t.Errorf("slowFirst=%v: a panic in one element nulled another: %v", slowFirst, ret)
		}
		errs := graphql.GetErrors(ctx)
		if len(errs) != 1 {
			t.Fatalf("slowFirst=%v: %d errors, want 1: %v", slowFirst, len(errs), errs)
		}
		var ge *gqlerror.Error
		if !errors.As(errs[0], &ge) || len(ge.Path) == 0 || ge.Path[len(ge.Path)-1] != ast.PathIndex(2) {
			t.Errorf("slowFirst=%v: the error's path %v does not end at index 2", slowFirst, errs[0].Path)
		}
	}
}

func TestMarshalSlice_EmptyAndCanceled(t *testing.T) {
	if ret := MarshalSlice(responseContext(t), 0, 0, false, nil); len(ret) != 0 {
		t.Fatalf("an empty list marshaled to %d elements", len(ret))
	}
	// Every element is slow, so after elements 0 and 1 the rest go concurrent
	// with one worker; element 2 holds it, cancels the request and waits until
	// the cancellation is recorded, so elements 3 to 5 never get to run.
	everyElementSlow(t)
	ctx, cancel := context.WithCancel(responseContext(t))
	defer cancel()
	var ran atomic.Int32
	ret := MarshalSlice(ctx, 6, 1, false, func(ctx context.Context, i int) graphql.Marshaler {
		ran.Add(1)
		if i == 2 {
			cancel()
			deadline := time.Now().Add(5 * time.Second)
			for len(graphql.GetErrors(ctx)) == 0 && time.Now().Before(deadline) {
				runtime.Gosched()
			}
		}
		return graphql.MarshalInt(i)
	})
	if len(ret) != 6 || ran.Load() != 3 {
		t.Fatalf("got %d elements, %d marshaled; want 6 and 3", len(ret), ran.Load())
	}
	for i := 3; i < 6; i++ {
		if ret[i] != graphql.Null {
			t.Errorf("element %d of a canceled request is %v, want null", i, ret[i])
		}
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || !strings.Contains(errs[0].Message, "canceled") {
		t.Errorf("errors %v, want the cancellation", errs)
	}
}

func TestEmptyArray(t *testing.T) {
	var b strings.Builder
	EmptyArray.MarshalGQL(&b)
	if b.String() != "[]" {
		t.Errorf("EmptyArray wrote %q", b.String())
	}
}

// An element costs one allocation: its field context, with its index, in the
// context that carries it; the list its array.
func TestMarshalSlice_AllocationsPerElement(t *testing.T) {
	defer func(d time.Duration) { slowElement = d }(slowElement)
	slowElement = time.Second
	ctx := responseContext(t)
	marshal := func(ctx context.Context, i int) graphql.Marshaler { return graphql.Null }
	const n = 20
	if allocs := testing.AllocsPerRun(50, func() { MarshalSlice(ctx, n, 0, false, marshal) }); allocs > 1+n {
		t.Errorf("%v allocations for %d elements, want at most %d", allocs, n, 1+n)
	}
}
