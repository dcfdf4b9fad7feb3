package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
)

// snooze puts conversations of a new company to sleep until until (straight in the
// table: the mutation refuses a time in the past, and tests need a time that falls
// due soon).
func snooze(t *testing.T, bdb *bun.DB, n int, until time.Time) (int64, []int64) {
	t.Helper()
	c := testkit.Company(t, bdb)
	ids := make([]int64, n)
	for i := range ids {
		conv := testkit.Conversation(t, bdb, c.ID, time.Time{})
		if _, err := bdb.NewRaw("UPDATE conversations SET status = 'SNOOZED', snoozed_until = ? WHERE id = ?",
			until, conv.ID).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		ids[i] = conv.ID
	}
	return c.ID, ids
}

// countOpen counts the conversations among ids that are OPEN with no snooze time.
func countOpen(t *testing.T, bdb *bun.DB, ids []int64) int {
	t.Helper()
	var n int
	if err := bdb.NewRaw("SELECT count(*) FROM conversations WHERE id IN (?) AND status = 'OPEN' AND snoozed_until IS NULL",
		bun.List(ids)).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// updates counts conversationUpdated events per conversation, as one bus sees them.
func updates(t *testing.T, bus *events.Bus, companyID int64) func() map[int64]int {
	var mu sync.Mutex
	got := map[int64]int{}
	s := bus.Attach(companyID, func(ev *events.Event) bool {
		if ev.Kind == events.ConversationUpdated {
			mu.Lock()
			got[ev.ConversationID]++
			mu.Unlock()
		}
		return true
	}, nil)
	t.Cleanup(s.Close)
	return func() map[int64]int {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[int64]int, len(got))
		for k, v := range got {
			out[k] = v
		}
		return out
	}
}

// A snooze ends within 5 s of its time, announced once per conversation, with two
// instances running against one database.
func TestSnooze_WakesWithinFiveSecondsOnceWithTwoInstances(t *testing.T) {
	bdb := testkit.DB(t)
	a := testkit.NewAppOn(t, bdb)
	b := testkit.NewAppOn(t, bdb)
	due := time.Now().Add(1500 * time.Millisecond)
	companyID, ids := snooze(t, bdb, 30, due)
	_, later := snooze(t, bdb, 1, time.Now().Add(time.Hour))
	seenA, seenB := updates(t, a.Bus, companyID), updates(t, b.Bus, companyID)
	waitUntil(t, 10*time.Second, "every snoozed conversation is OPEN", func() bool { return countOpen(t, bdb, ids) == len(ids) })
	if late := time.Since(due); late > 5*time.Second {
		t.Fatalf("woke %s after the snooze time", late)
	}
	// Each bus receives every event: one per conversation, not one per instance.
	time.Sleep(2500 * time.Millisecond) // a few more polls of both instances
	for name, seen := range map[string]func() map[int64]int{"a": seenA, "b": seenB} {
		got := seen()
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("instance %s saw %d conversationUpdated for %d, want 1 (%v)", name, got[id], id, got)
			}
		}
	}
	if countOpen(t, bdb, later) != 0 {
		t.Fatal("a snooze an hour ahead ended early")
	}
}

// The snooze is kept in the database: a snooze set while an instance ran still
// ends after that instance stopped and another one started.
func TestSnooze_WakesAfterARestart(t *testing.T) {
	bdb := testkit.DB(t)
	first := testkit.NewAppOn(t, bdb)
	_, ids := snooze(t, bdb, 2, time.Now().Add(2*time.Second))
	first.Shutdown()
	if countOpen(t, bdb, ids) != 0 {
		t.Fatal("woke before its time")
	}
	time.Sleep(2500 * time.Millisecond) // due while nothing runs
	testkit.NewAppOn(t, bdb)
	waitUntil(t, 5*time.Second, "the snoozes end on the new instance", func() bool { return countOpen(t, bdb, ids) == len(ids) })
}

// WakeSnoozed from many callers at once wakes each conversation exactly once.
func TestWakeSnoozed_ConcurrentCallersWakeEachOnce(t *testing.T) {
	bdb := testkit.DB(t)
	_, ids := snooze(t, bdb, 40, time.Now().Add(-time.Second))
	var mu sync.Mutex
	woken := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := bdb.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
				convs, err := db.WakeSnoozed(ctx, tx, 7)
				mu.Lock()
				for _, c := range convs {
					woken[c.ID]++
				}
				mu.Unlock()
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for len(woken) < len(ids) { // drain what the eight batches left
		convs, err := db.WakeSnoozed(context.Background(), bdb, 100)
		if err != nil || len(convs) == 0 {
			t.Fatalf("drain: %d %v", len(convs), err)
		}
		for _, c := range convs {
			woken[c.ID]++
		}
	}
	for _, id := range ids {
		if woken[id] != 1 {
			t.Fatalf("conversation %d woken %d times", id, woken[id])
		}
	}
}
