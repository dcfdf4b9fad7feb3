package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The label filter walks conversation_labels_keyset_idx, whose order key is a copy
// of each conversation's last_update_time: the triggers must keep it equal, so the
// filtered inbox is exactly the unfiltered inbox's labelled conversations, in the
// same order, page after page.
func TestLabelKeyset_FollowsTheConversationsTime(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, _, convs := inboxFixture(t, app) // even ids carry both labels
	labelled := func() []int64 {
		t.Helper()
		all, _, err := db.ListConversationSummaries(ctx, app.DB, company, db.ConversationFilter{}, nil, 100, db.SummaryParts{})
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, c := range all {
			if c.ID%2 == 0 {
				want = append(want, c.ID)
			}
		}
		return want
	}
	walk := func() []int64 {
		t.Helper()
		var got []int64
		var after *db.ConversationCursor
		for range 20 {
			page, _, err := db.ListConversationSummaries(ctx, app.DB, company, db.ConversationFilter{Labels: []string{"billing"}}, after, 4, db.SummaryParts{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				return got
			}
			got = append(got, ids(page)...)
			last := page[len(page)-1]
			after = &db.ConversationCursor{LastUpdate: last.LastUpdateTime, ID: last.ID}
		}
		t.Fatal("the walk did not end")
		return nil
	}
	if got, want := walk(), labelled(); len(want) != 12 || !reflect.DeepEqual(got, want) {
		t.Fatalf("label walk %v, want the inbox's labelled conversations %v", got, want)
	}
	// A message moves a labelled conversation to the top, another one's time goes
	// back to none: the label's order follows.
	var top, cleared, odd *db.Conversation
	for _, c := range convs {
		if c.ID%2 == 1 && odd == nil {
			odd = c
		}
		if c.ID%2 == 0 {
			if cleared == nil {
				cleared = c
			} else {
				top = c
			}
		}
	}
	if _, err := app.DB.NewRaw("UPDATE conversations SET last_update_time = ? WHERE id = ?", time.Now().Add(time.Hour), top.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.NewRaw("UPDATE conversations SET last_update_time = NULL WHERE id = ?", cleared.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// A label given now takes the conversation's time.
	if _, err := app.DB.NewRaw(`INSERT INTO conversation_labels (conversation_id, label_id, company_id)
		SELECT ?, l.id, l.company_id FROM labels l WHERE l.company_id = ? AND l.name = 'Billing'`, odd.ID, company).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got := walk()
	var want []int64
	all, _, _ := db.ListConversationSummaries(ctx, app.DB, company, db.ConversationFilter{}, nil, 100, db.SummaryParts{})
	for _, c := range all {
		if c.ID%2 == 0 || c.ID == odd.ID {
			want = append(want, c.ID)
		}
	}
	if !reflect.DeepEqual(got, want) || got[0] != top.ID {
		t.Fatalf("after the changes the label walk is %v, want %v (top %d)", got, want, top.ID)
	}
}
