package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

func searchIDs(t *testing.T, bdb *bun.DB, companyID int64, term string, after *db.SearchCursor, limit int) []*db.SearchHit {
	t.Helper()
	hits, err := db.SearchMessages(t.Context(), bdb, companyID, term, after, 0, limit, db.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestSearchMessages_ByWordAndSubstringBestFirstThenNewest(t *testing.T) {
	bdb := testkit.DB(t)
	company, other := testkit.Company(t, bdb), testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	once := testkit.Message(t, bdb, conv, db.DirectionReceived, "where is my parcel, order 123456", t0)
	twice := testkit.Message(t, bdb, conv, db.DirectionSent, "your parcel: parcel 654321", t0.Add(time.Minute))
	newer := testkit.Message(t, bdb, conv, db.DirectionSent, "a parcel again", t0.Add(2*time.Minute))
	testkit.Message(t, bdb, conv, db.DirectionSent, "nothing to see", t0.Add(3*time.Minute))
	otherConv := testkit.Conversation(t, bdb, other.ID, time.Time{})
	testkit.Message(t, bdb, otherConv, db.DirectionReceived, "parcel of another company", t0)

	// By word: the message with the word twice ranks first, then the newest.
	hits := searchIDs(t, bdb, company.ID, "parc", nil, 10)
	want := []string{twice.HexID(), newer.HexID(), once.HexID()}
	if len(hits) != len(want) {
		t.Fatalf("hits = %d, want %d", len(hits), len(want))
	}
	for i, h := range hits {
		if h.HexID() != want[i] {
			t.Errorf("hit %d = %s (rank %v), want %s", i, h.HexID(), h.Rank, want[i])
		}
		if h.Content == nil || h.ConversationID != conv.ID || h.Status != db.StatusPending {
			t.Errorf("hit %d is not the whole message: %+v", i, h.Message)
		}
	}
	// The same order page by page, from the cursor.
	first := searchIDs(t, bdb, company.ID, "parc", nil, 1)
	cur := &db.SearchCursor{Rank: first[0].Rank, Datetime: first[0].Datetime, ID: first[0].ID}
	rest := searchIDs(t, bdb, company.ID, "parc", cur, 10)
	if len(rest) != 2 || rest[0].ID != newer.ID || rest[1].ID != once.ID {
		t.Errorf("after the first hit: %v", rest)
	}
	// By substring of a number (trigrams), inside a word.
	if hits := searchIDs(t, bdb, company.ID, "3456", nil, 10); len(hits) != 1 || hits[0].ID != once.ID {
		t.Errorf("substring: %v", hits)
	}
	for term, want := range map[string]int{"parc": 3, "3456": 1, "pa": 3, "zz": 0, "arce": 3} {
		n, err := db.CountSearch(t.Context(), bdb, company.ID, term, false)
		if err != nil || n != want {
			t.Errorf("CountSearch(%q) = %d, %v; want %d", term, n, err, want)
		}
	}
}

func TestMessageSearch_RowWithTheMessageGoneWithIt(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	now := time.Now()
	m := testkit.Message(t, bdb, conv, db.DirectionReceived, "hello there", now)
	testkit.Message(t, bdb, conv, db.DirectionReceived, "", now)
	media := &db.Message{ID: db.NewMessageID(), CompanyID: company.ID, ConversationID: conv.ID,
		Direction: db.DirectionReceived, MessageType: db.TypeMedia, Datetime: now, Status: db.StatusPending}
	if err := db.QueueMessage(t.Context(), bdb, media, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Only a message with text gets a row.
	if got := rows(t, bdb, "message_search"); got != 1 {
		t.Fatalf("message_search = %d rows, want 1", got)
	}
	var s struct {
		CompanyID int64     `bun:"company_id"`
		Datetime  time.Time `bun:"datetime"`
		Content   string    `bun:"content"`
	}
	if err := bdb.NewRaw("SELECT company_id, datetime, content FROM message_search WHERE message_id = ?", m.ID).Scan(t.Context(), &s); err != nil {
		t.Fatal(err)
	}
	if s.CompanyID != company.ID || !s.Datetime.Equal(m.Datetime.Truncate(time.Microsecond)) || s.Content != "hello there" {
		t.Errorf("search row = %+v, want the message's", s)
	}
	if _, err := bdb.NewDelete().Model((*db.Message)(nil)).Where("id = ?", m.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, bdb, "message_search"); got != 0 {
		t.Errorf("message_search = %d rows after the message was deleted", got)
	}
	testkit.Message(t, bdb, conv, db.DirectionSent, "bye now", now)
	if _, err := bdb.NewDelete().Model((*db.Conversation)(nil)).Where("id = ?", conv.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, bdb, "message_search"); got != 0 {
		t.Errorf("message_search = %d rows after the conversation was deleted", got)
	}
}

func unread(t *testing.T, bdb *bun.DB, conv *db.Conversation) int {
	t.Helper()
	counts, err := db.UnreadCounts(t.Context(), bdb, conv.CompanyID, []int64{conv.ID})
	if err != nil {
		t.Fatal(err)
	}
	return counts[conv.ID]
}

func TestUnread_ReceivedUntilReadAndNotMovedByCallbacks(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	agent := testkit.Agent(t, bdb, company.ID)
	now := time.Now()
	testkit.Message(t, bdb, conv, db.DirectionReceived, "one", now)
	testkit.Message(t, bdb, conv, db.DirectionReceived, "two", now)
	sent := testkit.Message(t, bdb, conv, db.DirectionSent, "three", now)
	if n := unread(t, bdb, conv); n != 2 {
		t.Fatalf("unread = %d, want the 2 received", n)
	}
	attach(t, bdb, company.ID, sent.ID, "SMunread", db.StatusSent, nil)
	for _, st := range []string{db.StatusDelivered, db.StatusRead} {
		callback(t, bdb, "SMunread", st, nil, time.Now())
	}
	if n := unread(t, bdb, conv); n != 2 {
		t.Errorf("unread = %d after the sent message was read by the contact, want 2", n)
	}
	_, sums, err := db.ListConversationSummaries(t.Context(), bdb, company.ID, db.ConversationFilter{}, nil, 10, db.SummaryParts{Unread: true})
	if err != nil || len(sums) != 1 || sums[0].Unread != 2 {
		t.Errorf("summary unread: %+v, %v", sums, err)
	}
	if c, err := db.ConversationWithSummary(t.Context(), bdb, company.ID, conv.ID); err != nil || c == nil ||
		c.Summary.Unread != 2 || c.Summary.LastMessage == nil || c.Summary.Contact == nil {
		t.Errorf("conversation with summary: %+v, %v", c, err)
	}
	changed, err := db.MarkConversationRead(t.Context(), bdb, company.ID, conv.ID, agent.ID, time.Now())
	if err != nil || len(changed) != 2 {
		t.Fatalf("mark read: %d changed, %v", len(changed), err)
	}
	if n := unread(t, bdb, conv); n != 0 {
		t.Errorf("unread = %d after reading, want 0", n)
	}
	if changed, _ := db.MarkConversationRead(t.Context(), bdb, company.ID, conv.ID, agent.ID, time.Now()); len(changed) != 0 {
		t.Errorf("second mark read changed %d", len(changed))
	}
	testkit.Message(t, bdb, conv, db.DirectionReceived, "four", now)
	if n := unread(t, bdb, conv); n != 1 {
		t.Errorf("unread = %d after a new message, want 1", n)
	}
}

// A status callback must not add index entries: no index of messages depends on
// status, so the update is HOT (heap-only).
func TestAdvanceStatus_IsAHeapOnlyUpdate(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	sent := testkit.Message(t, bdb, conv, db.DirectionSent, "hello", time.Now())
	err := bdb.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		for _, st := range []string{db.StatusQueued, db.StatusSent, db.StatusDelivered, db.StatusRead} {
			if ch, err := db.AdvanceStatusByID(ctx, tx, company.ID, sent.ID, st, nil, time.Now()); err != nil || ch == nil {
				t.Fatalf("advance to %s: %v %v", st, ch, err)
			}
		}
		var upd, hot int
		if err := tx.QueryRowContext(ctx, `SELECT pg_stat_get_xact_tuples_updated('messages'::regclass),
			pg_stat_get_xact_tuples_hot_updated('messages'::regclass)`).Scan(&upd, &hot); err != nil {
			return err
		}
		if upd != 4 || hot != 4 {
			t.Errorf("%d updates, %d of them HOT; want 4 and 4", upd, hot)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Pages read attachments only for messages flagged has_attachments; the flag is
// set however an attachment comes to a message: inserted with it, linked later, or
// copied (an upload sent twice).
func TestHasAttachments_SetByEveryWayOfLinking(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	now := time.Now()
	newAtt := func(msgID any) *db.Attachment {
		a := &db.Attachment{CompanyID: company.ID, Type: db.AttachmentImage, Filename: "a.jpg", Filesize: 1,
			ContentType: "image/jpeg", State: "STORED"}
		q := bdb.NewInsert().Model(a).Returning("*")
		if msgID != nil {
			q = q.Value("message_id", "?", msgID).Value("ord", "0")
		}
		if _, err := q.Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		return a
	}
	plain := testkit.Message(t, bdb, conv, db.DirectionReceived, "no attachment", now.Add(-4*time.Minute))
	inserted := testkit.Message(t, bdb, conv, db.DirectionReceived, "inserted with one", now.Add(-3*time.Minute))
	newAtt(inserted.ID)
	linked := testkit.Message(t, bdb, conv, db.DirectionReceived, "linked later", now.Add(-2*time.Minute))
	upload := newAtt(nil)
	if _, err := bdb.NewUpdate().Model(upload).Set("message_id = ?", linked.ID).Set("ord = 0").WherePK().Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Sending the same upload again copies the attachment row.
	copied := &db.Message{ID: db.NewMessageID(), CompanyID: company.ID, ConversationID: conv.ID, Direction: db.DirectionSent,
		MessageType: db.TypeMedia, Datetime: now.Add(-time.Minute), Status: db.StatusPending}
	if err := db.QueueMessage(context.Background(), bdb, copied, []int64{upload.ID}, nil); err != nil {
		t.Fatal(err)
	}

	msgs, total, found, err := db.MessagePage(context.Background(), bdb, company.ID, conv.ID, 0, 10, false)
	if err != nil || !found || total != 4 {
		t.Fatalf("page: %d messages, total %d, found %v, %v", len(msgs), total, found, err)
	}
	want := map[string]int{plain.HexID(): 0, inserted.HexID(): 1, linked.HexID(): 1, copied.HexID(): 1}
	for _, m := range msgs {
		if m.Attachments == nil || len(m.Attachments) != want[m.HexID()] {
			t.Errorf("message %q: %d attachments (nil %v), want %d", deref(m.Content), len(m.Attachments), m.Attachments == nil, want[m.HexID()])
		}
		var flag bool
		if err := bdb.NewRaw("SELECT has_attachments FROM messages WHERE id = ?", m.ID).Scan(context.Background(), &flag); err != nil {
			t.Fatal(err)
		}
		if flag != (want[m.HexID()] > 0) {
			t.Errorf("message %q: has_attachments = %v", deref(m.Content), flag)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// A message id leaves the database as text (selectColumn) and arrives whole:
// in a page of every column and of a few, on the database and in a transaction
// (prepared and not), and as a conversation's newest message, narrowed or not.
func TestMessageIDsReadAsText(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	older := testkit.Message(t, bdb, conv, db.DirectionReceived, "first", t0)
	newest := testkit.Message(t, bdb, conv, db.DirectionSent, "second", t0.Add(time.Minute))
	for _, cols := range [][]string{nil, {"content"}} {
		msgs, err := db.ListMessages(t.Context(), bdb, company.ID, conv.ID, db.MessageWindow{Limit: 10, Columns: cols})
		if err != nil || len(msgs) != 2 || msgs[0].ID != newest.ID || msgs[1].ID != older.ID {
			t.Fatalf("columns %v: %v (%v)", cols, msgs, err)
		}
		err = bdb.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
			msgs, err := db.ListMessages(ctx, tx, company.ID, conv.ID, db.MessageWindow{Limit: 10, Columns: cols})
			if err == nil && (len(msgs) != 2 || msgs[0].ID != newest.ID) {
				t.Errorf("in a transaction, columns %v: %v", cols, msgs)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, sums, err := db.ListConversationSummaries(t.Context(), bdb, company.ID, db.ConversationFilter{}, nil, 10,
			db.SummaryParts{LastMessage: true, MessageColumns: cols})
		if err != nil || len(sums) != 1 || sums[0].LastMessage == nil || sums[0].LastMessage.ID != newest.ID {
			t.Fatalf("summary, columns %v: %+v (%v)", cols, sums, err)
		}
	}
}
