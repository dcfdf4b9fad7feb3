package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/uptrace/bun"
)

// countedInbox is CountInbox's answer counted from the conversations themselves.
func countedInbox(t *testing.T, idb bun.IDB, companyID, agentID int64) db.InboxCounts {
	t.Helper()
	var c db.InboxCounts
	err := idb.NewRaw(`SELECT
			count(*) FILTER (WHERE status = 'OPEN') AS open,
			count(*) FILTER (WHERE status = 'PENDING') AS pending,
			count(*) FILTER (WHERE status = 'SNOOZED') AS snoozed,
			count(*) FILTER (WHERE status = 'RESOLVED') AS resolved,
			count(*) FILTER (WHERE status = 'OPEN' AND assignee_id = ?0) AS mine,
			count(*) FILTER (WHERE status = 'OPEN' AND assignee_id IS NULL) AS unassigned,
			count(*) FILTER (WHERE status = 'OPEN' AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.unread)) AS unread
		FROM conversations AS c WHERE c.company_id = ?1`, agentID, companyID).Scan(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkInboxCounts(t *testing.T, idb bun.IDB, companyID, agentID int64, when string) {
	t.Helper()
	for _, q := range []bun.IDB{idb, nil} { // prepared on the database, and as text in a transaction
		var got *db.InboxCounts
		var err error
		if q != nil {
			got, err = db.CountInbox(context.Background(), q, companyID, agentID)
		} else {
			err = idb.(*bun.DB).RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
				got, err = db.CountInbox(ctx, tx, companyID, agentID)
				return err
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := countedInbox(t, idb, companyID, agentID); *got != want {
			t.Fatalf("%s: inbox counts %+v, counted %+v", when, *got, want)
		}
	}
}

// The counters follow every kind of change of a conversation — created, status,
// snooze, assignee, the assignee deleted (ON DELETE SET NULL), deleted — and folding
// them changes no count; the folded rows are few, and a deleted company's go.
func TestInboxCounts_FollowTheConversations(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, agent, convs := inboxFixture(t, app)
	other := testkit.Agent(t, app.DB, company)
	checkInboxCounts(t, app.DB, company, agent, "after the fixture")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := app.DB.NewRaw(q, args...).Exec(ctx); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	steps := []struct {
		name string
		do   func()
	}{
		{"a status", func() { exec("UPDATE conversations SET status = 'PENDING' WHERE id = ?", convs[0].ID) }},
		{"a snooze", func() {
			exec("UPDATE conversations SET status = 'SNOOZED', snoozed_until = now() + interval '1 hour' WHERE id = ?", convs[1].ID)
		}},
		{"assigned to me", func() {
			exec("UPDATE conversations SET status = 'OPEN', snoozed_until = NULL, assignee_id = ? WHERE id IN (?, ?)", agent, convs[2].ID, convs[5].ID)
		}},
		{"assigned to the other", func() { exec("UPDATE conversations SET assignee_id = ? WHERE id = ?", other.ID, convs[4].ID) }},
		{"status and assignee at once", func() {
			exec("UPDATE conversations SET status = 'RESOLVED', snoozed_until = NULL, assignee_id = NULL WHERE id = ?", convs[8].ID)
		}},
		{"a new time only", func() { exec("UPDATE conversations SET last_update_time = now() WHERE id = ?", convs[3].ID) }},
		{"a new conversation", func() { testkit.Conversation(t, app.DB, company, time.Now()) }},
		{"messages read and unread", func() {
			exec("UPDATE messages SET status = 'READ' WHERE conversation_id = ?", convs[0].ID)
			exec("UPDATE messages SET direction = 'RECEIVED', status = 'DELIVERED' WHERE conversation_id = ?", convs[2].ID)
		}},
		{"the other agent deleted", func() {
			exec("UPDATE conversations SET status = 'OPEN', snoozed_until = NULL, assignee_id = ? WHERE id = ?", other.ID, convs[6].ID)
			exec("DELETE FROM users WHERE id = ?", other.ID)
		}},
		{"a conversation deleted", func() { exec("DELETE FROM conversations WHERE id = ?", convs[7].ID) }},
	}
	for _, s := range steps {
		s.do()
		checkInboxCounts(t, app.DB, company, agent, s.name)
	}
	var before int
	if err := app.DB.NewRaw("SELECT count(*) FROM conversation_tab_counts WHERE company_id = ?", company).Scan(ctx, &before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FoldInboxCounts(ctx, app.DB); err != nil {
		t.Fatal(err)
	}
	checkInboxCounts(t, app.DB, company, agent, "after folding")
	var rows, nonzero int
	if err := app.DB.NewRaw("SELECT count(*), count(*) FILTER (WHERE slot <> 0 OR n = 0) FROM conversation_tab_counts WHERE company_id = ?",
		company).Scan(ctx, &rows, &nonzero); err != nil {
		t.Fatal(err)
	}
	if nonzero != 0 || rows >= before {
		t.Fatalf("after folding %d rows (%d unfolded or empty), %d before", rows, nonzero, before)
	}
	exec("DELETE FROM companies WHERE id = ?", company)
	if _, err := db.FoldInboxCounts(ctx, app.DB); err != nil {
		t.Fatal(err)
	}
	if err := app.DB.NewRaw("SELECT count(*) FROM conversation_tab_counts WHERE company_id = ?", company).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatalf("%d counter rows left of the deleted company", rows)
	}
}

// Transactions that change several conversations each, in random orders, while the
// counters are folded over and over: none waits for another's counter rows (no
// deadlock, no error), and the counts end exact.
func TestInboxCounts_RaceOfChangesAndFolds(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	co := testkit.Company(t, app.DB)
	agents := []*db.User{testkit.Agent(t, app.DB, co.ID), testkit.Agent(t, app.DB, co.ID)}
	var convs []*db.Conversation
	for i := range 12 {
		convs = append(convs, testkit.Conversation(t, app.DB, co.ID, time.Now().Add(-time.Duration(i)*time.Minute)))
	}
	statuses := []string{"OPEN", "PENDING", "RESOLVED"}
	const workers, rounds = 8, 30
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, workers+1)
	wg.Add(1)
	go func() { // the folder
		defer wg.Done()
		for !stop.Load() {
			if _, err := db.FoldInboxCounts(ctx, app.DB); err != nil {
				errs <- fmt.Errorf("fold: %w", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var changers sync.WaitGroup
	for w := range workers {
		changers.Add(1)
		go func() {
			defer changers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for r := range rounds {
				err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					// Conversations in id order (their own row locks are not what
					// is tested), their statuses and assignees at random.
					picked := rng.Perm(len(convs))[:3]
					slices.Sort(picked)
					for _, i := range picked {
						var assignee any
						if k := rng.IntN(3); k < len(agents) {
							assignee = agents[k].ID
						}
						if _, err := tx.NewRaw("UPDATE conversations SET status = ?, assignee_id = ? WHERE id = ?",
							statuses[rng.IntN(len(statuses))], assignee, convs[i].ID).Exec(ctx); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
		}()
	}
	changers.Wait()
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, a := range agents {
		checkInboxCounts(t, app.DB, co.ID, a.ID, "after the race")
	}
	if _, err := db.FoldInboxCounts(ctx, app.DB); err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		checkInboxCounts(t, app.DB, co.ID, a.ID, "after the last fold")
	}
}
