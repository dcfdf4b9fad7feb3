package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/uptrace/bun"
)

// staleLabelRows counts the label rows whose copy of their conversation differs
// from it (migration 20260301001000).
func staleLabelRows(t *testing.T, idb bun.IDB) int {
	t.Helper()
	var n int
	err := idb.NewRaw(`SELECT count(*) FROM conversation_labels AS cl JOIN conversations AS c ON c.id = cl.conversation_id
		WHERE (cl.company_id, cl.user_id, cl.channel_id, cl.last_update_time, cl.last_free_message_time, cl.created_at,
			cl.status, cl.snoozed_until, cl.assignee_id)
		IS DISTINCT FROM (c.company_id, c.user_id, c.channel_id, c.last_update_time, c.last_free_message_time, c.created_at,
			c.status, c.snoozed_until, c.assignee_id)`).Scan(context.Background(), &n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every column of a conversation has its copy in the label rows: a column added
// to conversations and not to conversation_labels (and its triggers) fails here.
func TestLabelRows_HaveEveryConversationColumn(t *testing.T) {
	app := testkit.NewApp(t)
	var missing []string
	err := app.DB.NewRaw(`SELECT c.column_name FROM information_schema.columns AS c
		WHERE c.table_schema = 'public' AND c.table_name = 'conversations' AND c.column_name <> 'id'
		AND NOT EXISTS (SELECT 1 FROM information_schema.columns AS l WHERE l.table_schema = 'public'
			AND l.table_name = 'conversation_labels' AND l.column_name = c.column_name AND l.data_type = c.data_type)
		ORDER BY 1`).Scan(context.Background(), &missing)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("conversation_labels lacks the copies of conversations' columns %v", missing)
	}
}

// A label's page is read from the label rows alone, so they must answer exactly
// as the conversations would: every column, under every filter, after every kind
// of change (time, window, status, snooze, assignment, contact).
func TestLabelRows_AnswerAsTheirConversations(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, agent, convs := inboxFixture(t, app) // even ids carry "Billing"
	other := testkit.Agent(t, app.DB, company)
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	changes := []string{
		`UPDATE conversations SET last_update_time = ?0, last_free_message_time = ?0 WHERE id = ?1`,
		`UPDATE conversations SET status = 'SNOOZED', snoozed_until = ?0 WHERE id = ?1`,
		`UPDATE conversations SET status = 'OPEN', snoozed_until = NULL, assignee_id = ?2 WHERE id = ?1`,
		`UPDATE conversations SET status = 'RESOLVED', snoozed_until = NULL, assignee_id = NULL WHERE id = ?1`,
		`UPDATE conversations SET last_update_time = NULL WHERE id = ?1`,
		`UPDATE conversations SET user_id = ?3 WHERE id = ?1`,
	}
	for i, c := range convs {
		if c.ID%2 != 0 {
			continue
		}
		q := changes[i%len(changes)]
		contact := testkit.Contact(t, app.DB, company)
		if _, err := app.DB.NewRaw(q, later.Add(time.Duration(i)*time.Second), c.ID, other.ID, contact.ID).Exec(ctx); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := staleLabelRows(t, app.DB); n != 0 {
		t.Fatalf("%d label rows differ from their conversations", n)
	}
	yes, no := true, false
	filters := []struct {
		name string
		f    db.ConversationFilter
	}{
		{"label", db.ConversationFilter{}},
		{"label, open", db.ConversationFilter{Statuses: []string{"OPEN"}}},
		{"label, snoozed or resolved", db.ConversationFilter{Statuses: []string{"SNOOZED", "RESOLVED"}}},
		{"label, mine", db.ConversationFilter{AssigneeIDs: []int64{agent}}},
		{"label, other's", db.ConversationFilter{AssigneeIDs: []int64{other.ID}}},
		{"label, assigned", db.ConversationFilter{Assigned: &yes}},
		{"label, unassigned", db.ConversationFilter{Assigned: &no}},
		{"label, window open", db.ConversationFilter{WindowOpen: &yes, WindowCutoff: time.Now().Add(-24 * time.Hour)}},
		{"label, window closed", db.ConversationFilter{WindowOpen: &no, WindowCutoff: time.Now().Add(-24 * time.Hour)}},
		{"label, unread", db.ConversationFilter{UnreadOnly: true}},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			all, err := db.ListConversations(ctx, app.DB, company, tc.f, nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			var want []db.Conversation
			for _, c := range all {
				if c.ID%2 == 0 {
					want = append(want, *c)
				}
			}
			f := tc.f
			f.Labels = []string{"BILLING"}
			for _, prepared := range []bool{false, true} {
				var got []*db.Conversation
				if prepared {
					got, _, err = db.ListConversationSummaries(ctx, app.DB, company, f, nil, 100, db.SummaryParts{})
				} else {
					got, err = db.ListConversations(ctx, app.DB, company, f, nil, 100)
				}
				if err != nil {
					t.Fatal(err)
				}
				rows := make([]db.Conversation, len(got))
				for i, c := range got {
					rows[i] = *c
					rows[i].Summary = nil
				}
				if len(rows) != len(want) || (len(want) > 0 && !reflect.DeepEqual(rows, want)) {
					t.Fatalf("prepared %v: label page\n%+v\nwant the conversations\n%+v", prepared, rows, want)
				}
			}
		})
	}
}

// Labels given while their conversation changes: each label row must end as a copy
// of its conversation's last version. A label row copied from a version another
// transaction is replacing (a plain read in the insert trigger) stays stale, since
// that transaction's trigger cannot see the uncommitted label row; the trigger's
// FOR SHARE makes one wait for the other.
func TestLabelRows_RaceWithConversationChanges(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	co := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, co.ID)
	var convs []*db.Conversation
	for i := range 4 {
		convs = append(convs, testkit.Conversation(t, app.DB, co.ID, time.Now().Add(-time.Duration(i)*time.Minute)))
	}
	names := []string{"a", "b", "c", "d", "e", "f"}
	tx, err := app.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureLabels(ctx, tx, co.ID, names, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for r := range rounds {
				c := convs[rng.IntN(len(convs))]
				err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					// As addLabels and removeLabels do: one or the other in a
					// transaction (a label row locked before its conversation, by a
					// detach and then an attach in one transaction, could deadlock with
					// a change of the conversation, which locks it before its labels).
					if w%2 == 0 && r%2 == 0 {
						_, err := db.AttachLabels(ctx, tx, co.ID, c.ID, []string{names[rng.IntN(len(names))], names[rng.IntN(len(names))]})
						// addLabels publishes its event before it commits: the window
						// in which a change of the conversation meets the new rows.
						time.Sleep(2 * time.Millisecond)
						return err
					}
					if w%2 == 0 {
						_, err := db.DetachLabels(ctx, tx, co.ID, c.ID, []string{names[rng.IntN(len(names))]})
						return err
					}
					var assignee any
					if r%2 == 0 {
						assignee = agent.ID
					}
					_, err := tx.NewRaw(`UPDATE conversations SET last_update_time = clock_timestamp(), assignee_id = ?,
						status = ? WHERE id = ?`, assignee, []string{"OPEN", "PENDING", "RESOLVED"}[r%3], c.ID).Exec(ctx)
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var labelled int
	if err := app.DB.NewRaw("SELECT count(*) FROM conversation_labels WHERE company_id = ?", co.ID).Scan(ctx, &labelled); err != nil {
		t.Fatal(err)
	}
	if labelled == 0 {
		t.Fatal("no label row left to check")
	}
	if n := staleLabelRows(t, app.DB); n != 0 {
		t.Fatalf("%d of %d label rows differ from their conversations after the race", n, labelled)
	}
}

// A label row joins a conversation and a label of one company, and keeps them: the
// label's page has no other tenancy condition (listConversations).
func TestLabelRows_StayInTheirCompany(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	a, b := testkit.Company(t, app.DB), testkit.Company(t, app.DB)
	convA := testkit.Conversation(t, app.DB, a.ID, time.Now())
	convB := testkit.Conversation(t, app.DB, b.ID, time.Now())
	var labelA, labelB int64
	for _, l := range []struct {
		company int64
		id      *int64
	}{{a.ID, &labelA}, {b.ID, &labelB}} {
		if err := app.DB.NewRaw("INSERT INTO labels (company_id, name) VALUES (?, 'Billing') RETURNING id", l.company).Scan(ctx, l.id); err != nil {
			t.Fatal(err)
		}
	}
	insert := `INSERT INTO conversation_labels (conversation_id, label_id, company_id) VALUES (?, ?, ?)`
	for _, tc := range []struct {
		name                 string
		conv, label, company int64
	}{
		{"another company's label", convA.ID, labelB, a.ID},
		{"another company's conversation", convB.ID, labelA, a.ID},
		{"another company named", convA.ID, labelA, b.ID},
		{"both of another company than named", convB.ID, labelB, a.ID},
	} {
		if _, err := app.DB.NewRaw(insert, tc.conv, tc.label, tc.company).Exec(ctx); err == nil {
			t.Errorf("%s: the label row was stored", tc.name)
		}
	}
	if _, err := app.DB.NewRaw(insert, convA.ID, labelA, a.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"company_id = ?1", "label_id = ?2", "conversation_id = ?3"} {
		if _, err := app.DB.NewRaw("UPDATE conversation_labels SET "+set+" WHERE conversation_id = ?0", convA.ID, b.ID, labelB, convB.ID).Exec(ctx); err == nil {
			t.Errorf("UPDATE %s: the label row moved", set)
		}
	}
	page, err := db.ListConversations(ctx, app.DB, b.ID, db.ConversationFilter{Labels: []string{"billing"}}, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 0 {
		t.Fatalf("company b's label page shows %d conversations of company a", len(page))
	}
	if page, err = db.ListConversations(ctx, app.DB, a.ID, db.ConversationFilter{Labels: []string{"billing"}}, nil, 20); err != nil || len(page) != 1 || page[0].ID != convA.ID {
		t.Fatalf("company a's label page %v, %v; want conversation %d", page, err, convA.ID)
	}
}
