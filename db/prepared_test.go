package db_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The hot pages run as prepared statements on the database (prepared.go) and as
// Bun's text with the values in place in a transaction. Both must answer the same
// rows, for every shape of the statement.

// inboxFixture is a company with conversations of every status, assigned and not,
// labelled and not, with contacts whose names need escaping, and messages.
func inboxFixture(t *testing.T, app *testkit.App) (companyID, agentID int64, convs []*db.Conversation) {
	t.Helper()
	ctx := context.Background()
	co := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, co.ID)
	now := time.Now()
	statuses := []string{"OPEN", "PENDING", "SNOOZED", "RESOLVED"}
	for i := range 24 {
		c := testkit.Conversation(t, app.DB, co.ID, now.Add(-time.Duration(i)*time.Minute))
		testkit.Message(t, app.DB, c, db.DirectionReceived, fmt.Sprint("hello ", i), now.Add(-time.Duration(i)*time.Minute))
		var assignee any
		if i%3 == 0 {
			assignee = agent.ID
		}
		name := fmt.Sprintf("Nimal%d", i)
		if i%5 == 0 {
			name = `O"Brien\ 50%_off`
		}
		if _, err := app.DB.NewRaw(`UPDATE conversations SET status = ?0, snoozed_until = CASE WHEN ?0 = 'SNOOZED' THEN now() + interval '1 day' END,
			assignee_id = ?1, last_update_time = CASE WHEN ?2 THEN NULL ELSE last_update_time END WHERE id = ?3`,
			statuses[i%4], assignee, i%7 == 0, c.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := app.DB.NewRaw("UPDATE users SET first_name = ? WHERE id = ?", name, c.UserID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}
	if _, err := app.DB.NewRaw(`WITH l AS (INSERT INTO labels (company_id, name) VALUES (?, 'Billing'), (?, 'Say "hi"\ now') RETURNING id, name)
		INSERT INTO conversation_labels (conversation_id, label_id, company_id)
		SELECT c.id, l.id, c.company_id FROM conversations c, l WHERE c.company_id = ? AND c.id % 2 = 0`,
		co.ID, co.ID, co.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return co.ID, agent.ID, convs
}

func TestPrepared_InboxAnswersAsTheTextStatement(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, agent, convs := inboxFixture(t, app)
	yes, no := true, false
	mid := convs[10]
	cursors := []*db.ConversationCursor{nil, {LastUpdate: mid.LastUpdateTime, ID: mid.ID}, {ID: convs[len(convs)-1].ID + 1}}
	filters := map[string]db.ConversationFilter{
		"none":            {},
		"open":            {Statuses: []string{"OPEN"}},
		"open or pending": {Statuses: []string{"OPEN", "PENDING"}},
		"mine open":       {Statuses: []string{"OPEN"}, AssigneeIDs: []int64{agent}},
		"unassigned":      {Assigned: &no},
		"assigned":        {Assigned: &yes},
		"unread":          {UnreadOnly: true},
		"window open":     {WindowOpen: &yes, WindowCutoff: time.Now().Add(-24 * time.Hour)},
		"window closed":   {WindowOpen: &no, WindowCutoff: time.Now().Add(-24 * time.Hour)},
		"search":          {Search: "nimal1"},
		"search quotes":   {Search: `O"Brien\ 50%`},
		"search digits":   {Search: "+1 555"},
		"label":           {Labels: []string{"billing"}},
		"labels quoted":   {Labels: []string{"Billing", `say "HI"\ now`}},
		"everything":      {Statuses: []string{"OPEN", "SNOOZED"}, Assigned: &yes, Labels: []string{"Billing"}, Search: "n"},
	}
	parts := []db.SummaryParts{{}, {Contact: true}, {Contact: true, LastMessage: true, Unread: true}}
	for name, f := range filters {
		for ci, after := range cursors {
			for pi, pt := range parts {
				t.Run(fmt.Sprintf("%s/cursor%d/parts%d", name, ci, pi), func(t *testing.T) {
					prepConvs, prepSums, err := db.ListConversationSummaries(ctx, app.DB, company, f, after, 7, pt)
					if err != nil {
						t.Fatalf("prepared: %v", err)
					}
					var textConvs []*db.Conversation
					var textSums []*db.ConversationSummary
					err = app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
						textConvs, textSums, err = db.ListConversationSummaries(ctx, tx, company, f, after, 7, pt)
						return err
					})
					if err != nil {
						t.Fatalf("text: %v", err)
					}
					if !reflect.DeepEqual(ids(prepConvs), ids(textConvs)) {
						t.Fatalf("prepared %v, text %v", ids(prepConvs), ids(textConvs))
					}
					// And the same page as the plain list's (whole rows, no
					// summaries, no keys-first join).
					plain, err := db.ListConversations(ctx, app.DB, company, f, after, 7)
					if err != nil {
						t.Fatalf("plain list: %v", err)
					}
					if !reflect.DeepEqual(ids(prepConvs), ids(plain)) {
						t.Fatalf("summaries %v, plain list %v", ids(prepConvs), ids(plain))
					}
					for i, c := range prepConvs {
						if !reflect.DeepEqual(c, plain[i]) {
							t.Fatalf("conversation %d: summaries %+v, plain list %+v", i, c, plain[i])
						}
					}
					for i := range prepSums {
						p, x := prepSums[i], textSums[i]
						if p.Unread != x.Unread || (p.Contact == nil) != (x.Contact == nil) || (p.LastMessage == nil) != (x.LastMessage == nil) ||
							p.Contact != nil && p.Contact.FirstName != x.Contact.FirstName ||
							p.LastMessage != nil && p.LastMessage.ID != x.LastMessage.ID {
							t.Fatalf("summary %d: prepared %+v, text %+v", i, p, x)
						}
					}
				})
			}
		}
	}
	// The legacy page (offset, limit, count, contact) as well.
	for _, off := range []int{0, 5, 20, 40} {
		prep, ptotal, err := db.ConversationPage(ctx, app.DB, company, off, 10)
		if err != nil {
			t.Fatalf("legacy page %d prepared: %v", off, err)
		}
		var text []*db.Conversation
		var ttotal int
		if err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			text, ttotal, err = db.ConversationPage(ctx, tx, company, off, 10)
			return err
		}); err != nil {
			t.Fatalf("legacy page %d text: %v", off, err)
		}
		if ptotal != 24 || ttotal != 24 || !reflect.DeepEqual(ids(prep), ids(text)) || (off < 24 && len(prep) == 0) ||
			len(prep) > 0 && (prep[0].User == nil || prep[0].User.FirstName != text[0].User.FirstName) {
			t.Fatalf("legacy page %d: prepared %v of %d, text %v of %d", off, ids(prep), ptotal, ids(text), ttotal)
		}
	}
	// A filter that matches: the fixture is not empty where it counts.
	if got, _, _ := db.ListConversationSummaries(ctx, app.DB, company, filters["labels quoted"], nil, 50, db.SummaryParts{}); len(got) != 12 {
		t.Fatalf("label with quotes and a backslash: %d conversations, want 12", len(got))
	}
}

func ids(cs []*db.Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestPrepared_MessagesAnswerAsTheTextStatement(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	co := testkit.Company(t, app.DB)
	now := time.Now()
	conv := testkit.Conversation(t, app.DB, co.ID, now)
	var all []*db.Message
	for i := range 30 {
		all = append(all, testkit.Message(t, app.DB, conv, db.DirectionReceived, fmt.Sprint("m", i), now.Add(-time.Duration(i)*time.Second)))
	}
	if _, err := app.DB.NewRaw("UPDATE messages SET message_type = 'NOTE' WHERE conversation_id = ? AND content IN ('m3', 'm4')", conv.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	at := &db.MessageCursor{Datetime: all[12].Datetime, ID: all[12].ID}
	for _, w := range []db.MessageWindow{
		{Limit: 21}, {Limit: 5, Before: at}, {Limit: 5, After: at}, {Limit: 5, FromOldest: true},
		{Limit: 21, WithAttachments: true, WithoutNotes: true}, {Limit: 3, After: at, FromOldest: true, WithoutNotes: true},
	} {
		prep, err := db.ListMessages(ctx, app.DB, co.ID, conv.ID, w)
		if err != nil {
			t.Fatalf("%+v prepared: %v", w, err)
		}
		var text []*db.Message
		if err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			text, err = db.ListMessages(ctx, tx, co.ID, conv.ID, w)
			return err
		}); err != nil {
			t.Fatalf("%+v text: %v", w, err)
		}
		if len(prep) == 0 || len(prep) != len(text) {
			t.Fatalf("%+v: %d prepared, %d text", w, len(prep), len(text))
		}
		for i := range prep {
			if prep[i].ID != text[i].ID || !prep[i].Datetime.Equal(text[i].Datetime) || *prep[i].Content != *text[i].Content {
				t.Fatalf("%+v row %d: prepared %+v, text %+v", w, i, prep[i], text[i])
			}
		}
	}
	// The legacy page (offset and limit, with the count).
	for _, pg := range []struct {
		offset, limit int
		noNotes       bool
	}{{0, 20, false}, {5, 10, true}, {25, 20, false}, {40, 20, true}} {
		prep, ptotal, pfound, err := db.MessagePage(ctx, app.DB, co.ID, conv.ID, pg.offset, pg.limit, pg.noNotes)
		if err != nil {
			t.Fatalf("%+v prepared: %v", pg, err)
		}
		var text []*db.Message
		var ttotal int
		var tfound bool
		if err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			text, ttotal, tfound, err = db.MessagePage(ctx, tx, co.ID, conv.ID, pg.offset, pg.limit, pg.noNotes)
			return err
		}); err != nil {
			t.Fatalf("%+v text: %v", pg, err)
		}
		if ptotal != ttotal || pfound != tfound || len(prep) != len(text) || (pg.offset < 25 && len(prep) == 0) {
			t.Fatalf("%+v: prepared %d rows of %d (%v), text %d of %d (%v)", pg, len(prep), ptotal, pfound, len(text), ttotal, tfound)
		}
		for i := range prep {
			if prep[i].ID != text[i].ID {
				t.Fatalf("%+v row %d differs", pg, i)
			}
		}
		if want := map[bool]int{false: 30, true: 28}[pg.noNotes]; pfound && ptotal != want {
			t.Fatalf("%+v: total %d, want %d", pg, ptotal, want)
		}
	}
	// Another company's conversation: nothing, prepared as well.
	other := testkit.Company(t, app.DB)
	if got, err := db.ListMessages(ctx, app.DB, other.ID, conv.ID, db.MessageWindow{Limit: 21}); err != nil || len(got) != 0 {
		t.Fatalf("another company read %d messages (%v)", len(got), err)
	}
}

// A migration that adds a column while statements are prepared (a rolling deploy)
// must not break them: their text names their columns, so their result type stays.
func TestPrepared_SurviveAnAddedColumn(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, _, convs := inboxFixture(t, app)
	read := func() {
		t.Helper()
		for range 3 { // on more than one pooled connection
			if _, _, err := db.ListConversationSummaries(ctx, app.DB, company, db.ConversationFilter{}, nil, 21,
				db.SummaryParts{Contact: true, LastMessage: true, Unread: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ListMessages(ctx, app.DB, company, convs[0].ID, db.MessageWindow{Limit: 21, WithAttachments: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	read()
	for _, table := range []string{"messages", "conversations", "users"} {
		if _, err := app.DB.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN added_by_a_later_release text"); err != nil {
			t.Fatal(err)
		}
	}
	read()
}

// Past MaxPreparedStatements texts a new one runs unprepared, with the same
// answer: a client cycling through field combinations (each a column list, so a
// text) cannot fill every connection with prepared statements.
func TestPrepared_BoundedTextsRunUnprepared(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	company, _, convs := inboxFixture(t, app)
	defer func(old int64) { db.MaxPreparedStatements = old }(db.MaxPreparedStatements)
	db.MaxPreparedStatements = 2
	columnSets := [][]string{nil, {"first_name"}, {"last_name"}, {"phone"}, {"first_name", "phone"}}
	for i, cols := range columnSets {
		parts := db.SummaryParts{Contact: true, LastMessage: true, ContactColumns: cols, MessageColumns: []string{"content"}}
		got, sums, err := db.ListConversationSummaries(ctx, app.DB, company, db.ConversationFilter{}, nil, 5, parts)
		if err != nil {
			t.Fatalf("column set %d: %v", i, err)
		}
		var want []*db.Conversation
		var wantSums []*db.ConversationSummary
		if err := app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			want, wantSums, err = db.ListConversationSummaries(ctx, tx, company, db.ConversationFilter{}, nil, 5, parts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), ids(want)) || len(got) != 5 {
			t.Fatalf("column set %d: %v, text statement %v", i, ids(got), ids(want))
		}
		for j := range sums {
			if !reflect.DeepEqual(sums[j].Contact, wantSums[j].Contact) || !reflect.DeepEqual(sums[j].LastMessage, wantSums[j].LastMessage) {
				t.Fatalf("column set %d, summary %d: %+v / %+v, text statement %+v / %+v", i, j,
					sums[j].Contact, sums[j].LastMessage, wantSums[j].Contact, wantSums[j].LastMessage)
			}
		}
		if n := db.PreparedStatements(app.DB); n > 2 {
			t.Fatalf("%d texts prepared, bound 2", n)
		}
	}
	if n := db.PreparedStatements(app.DB); n != 2 {
		t.Fatalf("%d texts prepared, want the first 2", n)
	}
	msgs, err := db.ListMessages(ctx, app.DB, company, convs[0].ID, db.MessageWindow{Limit: 5, Columns: []string{"content"}})
	if err != nil || len(msgs) != 1 || msgs[0].Content == nil {
		t.Fatalf("unprepared messages page: %v %+v", err, msgs)
	}
}
