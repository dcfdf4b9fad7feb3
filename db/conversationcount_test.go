package db_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// A company's conversation count (the legacy page's total, an unfiltered
// totalCount) is a counter the triggers keep; it must equal count(*) after
// conversations are created and deleted by many transactions at once, and after
// messages that find their conversation (INSERT ... ON CONFLICT DO UPDATE).
func TestConversationCount_CounterIsExactUnderConcurrency(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	a, b := testkit.Company(t, app.DB), testkit.Company(t, app.DB)
	const workers, each = 8, 25
	contacts := make([][]*db.User, workers)
	for w := range workers {
		for range each {
			contacts[w] = append(contacts[w], testkit.Contact(t, app.DB, a.ID))
		}
	}
	for range 3 {
		testkit.Conversation(t, app.DB, b.ID, app.Clock.Now())
	}
	start := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i, u := range contacts[w] {
				// A transaction that creates the conversation and sees it again (as a
				// message on it would), and every fifth one deleted after.
				err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					c, err := db.UpsertConversation(ctx, tx, a.ID, u.ID, db.ChannelWhatsApp)
					if err != nil {
						return err
					}
					if _, err := db.UpsertConversation(ctx, tx, a.ID, u.ID, db.ChannelWhatsApp); err != nil {
						return err
					}
					if i%5 == 0 {
						_, err = tx.NewDelete().Model((*db.Conversation)(nil)).Where("id = ?", c.ID).Exec(ctx)
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, co := range []*db.Company{a, b} {
		var want int
		if err := app.DB.NewRaw("SELECT count(*) FROM conversations WHERE company_id = ?", co.ID).Scan(ctx, &want); err != nil {
			t.Fatal(err)
		}
		got, err := db.CountConversations(ctx, app.DB, co.ID, db.ConversationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		_, total, err := db.ConversationPage(ctx, app.DB, co.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		_, beyond, err := db.ConversationPage(ctx, app.DB, co.ID, 1000, 10) // an empty page counts too
		if err != nil {
			t.Fatal(err)
		}
		if got != want || total != want || beyond != want {
			t.Fatalf("company %d: counter %d, page total %d, empty page total %d, count(*) %d", co.ID, got, total, beyond, want)
		}
	}
	var n int
	if err := app.DB.NewRaw("SELECT count(*) FROM conversations WHERE company_id = ?", a.ID).Scan(ctx, &n); err != nil || n != workers*each*4/5 {
		t.Fatalf("company a has %d conversations (%v), want %d", n, err, workers*each*4/5)
	}

	// A conversation does not change company.
	var id int64
	if err := app.DB.NewRaw("SELECT id FROM conversations WHERE company_id = ? LIMIT 1", b.ID).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	_, err := app.DB.NewRaw("UPDATE conversations SET company_id = ? WHERE id = ?", a.ID, id).Exec(ctx)
	if err == nil || !strings.Contains(err.Error(), "does not change company") {
		t.Fatalf("moving a conversation to another company: %v", err)
	}
	// Deleting a company deletes its conversations and its counter, without error.
	if _, err := app.DB.NewDelete().Model((*db.Company)(nil)).Where("id = ?", b.ID).Exec(ctx); err != nil {
		t.Fatalf("delete company: %v", err)
	}
	var rows int
	if err := app.DB.NewRaw("SELECT count(*) FROM company_conversation_counts WHERE company_id = ?", b.ID).Scan(ctx, &rows); err != nil || rows != 0 {
		t.Fatalf("counter rows of a deleted company: %d (%v)", rows, err)
	}
}
