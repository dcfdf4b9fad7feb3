package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// TestApp_PeriodicCleanupsRun: a status callback held for a send whose answer
// never came is removed once older than 24 h, by the app's own periodic work,
// while a fresh one stays; and the task is scheduled for its next run.
func TestApp_PeriodicCleanupsRun(t *testing.T) {
	bdb := testkit.DB(t)
	ctx := context.Background()
	if _, err := bdb.ExecContext(ctx, `INSERT INTO early_statuses (provider_sid, status, received_at) VALUES
		('SMold', 'DELIVERED', now() - interval '25 hours'), ('SMnew', 'DELIVERED', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	testkit.NewAppOn(t, bdb)
	waitUntil(t, 20*time.Second, "the old held status is removed", func() bool {
		var n int
		if err := bdb.NewRaw("SELECT count(*) FROM early_statuses WHERE provider_sid = 'SMold'").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	var fresh int
	if err := bdb.NewRaw("SELECT count(*) FROM early_statuses WHERE provider_sid = 'SMnew'").Scan(ctx, &fresh); err != nil || fresh != 1 {
		t.Fatalf("the fresh held status: %d %v", fresh, err)
	}
	waitUntil(t, 20*time.Second, "every task ran and is scheduled for its next run", func() bool {
		var done, all int
		if err := bdb.NewRaw(`SELECT count(*) FILTER (WHERE locked_until IS NULL
			AND run_at > now() + interval '30 seconds' AND last_error IS NULL), count(*) FROM periodic_tasks`).Scan(ctx, &done, &all); err != nil {
			t.Fatal(err)
		}
		// Every task of app/periodic.go (six at least: held statuses, uploads,
		// sessions, events, the webhook log, the inbox counters; the shortest runs
		// every minute).
		return all >= 6 && done == all
	})
}

// TestClaimPeriodicTasks_OneClaimerPerRun: of several instances claiming at once,
// one runs a due task.
func TestClaimPeriodicTasks_OneClaimerPerRun(t *testing.T) {
	bdb := testkit.DB(t)
	ctx := context.Background()
	names := []string{"a", "b"}
	if err := db.EnsurePeriodicTasks(ctx, bdb, names); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			claimed, err := db.ClaimPeriodicTasks(ctx, bdb, names, 2, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, n := range claimed {
				got[n]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if got["a"] != 1 || got["b"] != 1 {
		t.Fatalf("claims = %v; want each task once", got)
	}
}
