package jobs

import (
	"bytes"
	"context"
	"database/sql/driver"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// table is an in-memory queue: claim takes due ids, as a claim statement would.
type table struct {
	mu     sync.Mutex
	due    []int
	claims int
	fail   int // the next fail claims find the database unavailable
	done   []int
}

func (q *table) claim(_ context.Context, n int, _ time.Duration) ([]int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	if q.fail > 0 {
		q.fail--
		return nil, driver.ErrBadConn
	}
	n = min(n, len(q.due))
	out := append([]int(nil), q.due[:n]...)
	q.due = q.due[n:]
	return out, nil
}

func (q *table) add(ids ...int) {
	q.mu.Lock()
	q.due = append(q.due, ids...)
	q.mu.Unlock()
}

func (q *table) doneCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.done)
}

// waker is a Waker a test fires by hand.
type waker struct{ c chan struct{} }

func (w *waker) Wake(string) (<-chan struct{}, func()) { return w.c, func() {} }

func run(t *testing.T, q Queue[int]) *Runner[int] {
	t.Helper()
	r, err := New(q)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRunner_WakeUpBringsWorkWithoutPolling(t *testing.T) {
	q := &table{}
	w := &waker{c: make(chan struct{}, 1)}
	record := func(_ context.Context, id int) { q.mu.Lock(); q.done = append(q.done, id); q.mu.Unlock() }
	run(t, Queue[int]{Name: "test", Claim: q.claim, Do: record, Workers: 4, PollInterval: time.Hour, Bus: w, Channel: "c"})
	waitUntil(t, "the first look", func() bool { q.mu.Lock(); defer q.mu.Unlock(); return q.claims == 1 })
	q.add(1, 2, 3, 4, 5, 6)
	w.c <- struct{}{}
	waitUntil(t, "all six worked", func() bool { return q.doneCount() == 6 })
}

func TestRunner_WakeAfterBringsARetryWithoutPolling(t *testing.T) {
	q := &table{}
	r := run(t, Queue[int]{Name: "test", Claim: q.claim, Do: func(_ context.Context, id int) {
		q.mu.Lock()
		q.done = append(q.done, id)
		q.mu.Unlock()
	}, PollInterval: time.Hour})
	waitUntil(t, "the first look", func() bool { q.mu.Lock(); defer q.mu.Unlock(); return q.claims == 1 })
	q.add(7)
	r.WakeAfter(10 * time.Millisecond)
	waitUntil(t, "the retry worked", func() bool { return q.doneCount() == 1 })
}

func TestRunner_OutagePausesAndIsLoggedOnceEachWay(t *testing.T) {
	var logs bytes.Buffer
	q := &table{fail: 3}
	q.add(1)
	run(t, Queue[int]{Name: "test", Claim: q.claim, Do: func(_ context.Context, id int) {
		q.mu.Lock()
		q.done = append(q.done, id)
		q.mu.Unlock()
	}, PollInterval: time.Hour, OutageMin: time.Millisecond, OutageMax: 4 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	waitUntil(t, "the job after the outage", func() bool { return q.doneCount() == 1 })
	out := logs.String()
	if strings.Count(out, "database unavailable") != 1 || strings.Count(out, "reachable again") != 1 {
		t.Errorf("want one warning and one recovery line, got:\n%s", out)
	}
}

func TestRunner_StopWaitsForTheJobsInFlight(t *testing.T) {
	q := &table{}
	q.add(1)
	started, release := make(chan struct{}), make(chan struct{})
	r, err := New(Queue[int]{Name: "test", Claim: q.claim, Do: func(ctx context.Context, id int) {
		close(started)
		<-release
		q.mu.Lock()
		q.done = append(q.done, id)
		q.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	<-started
	cancel()
	close(release)
	<-stopped
	if q.doneCount() != 1 {
		t.Error("Run returned before its job finished")
	}
}

func TestBackoff_DoublesUpToMaxWithinJitter(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 5 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 20: 5 * time.Second} {
		if got := b.Delay(attempt); got != want {
			t.Errorf("Delay(%d) = %s, want %s", attempt, got, want)
		}
	}
	b.Jitter = 0.2
	for range 100 {
		if d := b.Delay(2); d < 1600*time.Millisecond || d > 2400*time.Millisecond {
			t.Fatalf("Delay(2) with 20%% jitter = %s", d)
		}
	}
}
