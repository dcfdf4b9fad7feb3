package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

func inbound(companyID int64, phone, sid string, at time.Time) (*db.User, *db.Message, []*db.Attachment) {
	ord, src := 0, "https://media.example/a.jpg"
	return &db.User{CompanyID: companyID, Phone: &phone, FirstName: "New"},
		&db.Message{ID: db.NewMessageID(), Direction: db.DirectionReceived, MessageType: db.TypeMedia,
			Datetime: at, Status: db.StatusPending, ProviderSID: &sid},
		[]*db.Attachment{{Order: &ord, Type: db.AttachmentImage, Filename: "a.jpg", ContentType: "image/jpeg",
			SourceURL: &src, State: "PENDING"}}
}

func rows(t *testing.T, bdb *bun.DB, table string) int {
	t.Helper()
	n, err := bdb.NewSelect().Table(table).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReceiveInbound_StoresOnceAndRollsBackARepeat(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	contact, msg, atts := inbound(company.ID, "+94717936775", "SMdb1", at)
	dup, err := db.ReceiveInbound(t.Context(), bdb, contact, msg, atts, nil)
	if err != nil || dup {
		t.Fatalf("first: dup=%v err=%v", dup, err)
	}
	if contact.ID == 0 || msg.ConversationID == 0 || *msg.SenderID != contact.ID || atts[0].ID == 0 || *atts[0].MessageID != msg.ID {
		t.Errorf("rows not filled: contact %+v message %+v attachment %+v", contact, msg, atts[0])
	}
	contact2, msg2, atts2 := inbound(company.ID, "+94717936775", "SMdb1", at.Add(time.Hour))
	dup, err = db.ReceiveInbound(t.Context(), bdb, contact2, msg2, atts2, nil)
	if err != nil || !dup {
		t.Fatalf("repeat: dup=%v err=%v", dup, err)
	}
	for table, want := range map[string]int{"messages": 1, "attachments": 1, "conversations": 1, "users": 1} {
		if got := rows(t, bdb, table); got != want {
			t.Errorf("%s = %d, want %d", table, got, want)
		}
	}
	var conv db.Conversation
	if err := bdb.NewSelect().Model(&conv).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !conv.LastFreeMessageTime.Equal(at) || !conv.LastUpdateTime.Equal(at) {
		t.Errorf("the repeat moved the conversation times: %v %v", conv.LastFreeMessageTime, conv.LastUpdateTime)
	}
}

func TestReceiveInbound_AFailingPublishStoresNothing(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	contact, msg, atts := inbound(company.ID, "+94717936775", "SMdb2", time.Now())
	// Rendering fails, or the statement does (NOTIFY payloads stop at 8000 bytes).
	boom := errors.New("boom")
	_, err := db.ReceiveInbound(t.Context(), bdb, contact, msg, atts, func(string) (string, []any, error) { return "", nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	tooLong := func(convID string) (string, []any, error) {
		return "pg_notify('connectme_test', repeat('x', 9000) || " + convID + ")", nil, nil
	}
	if _, err := db.ReceiveInbound(t.Context(), bdb, contact, msg, atts, tooLong); err == nil {
		t.Fatal("a failing NOTIFY did not fail the receive")
	}
	for _, table := range []string{"messages", "attachments", "conversations", "users"} {
		if got := rows(t, bdb, table); got != 0 {
			t.Errorf("%s = %d after a rolled back receive", table, got)
		}
	}
}

func TestApplyProviderStatus_CallbackRunsInTheTransactionWhenItMoves(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	m := testkit.Message(t, bdb, conv, db.DirectionSent, "hi", time.Now())
	if _, err := bdb.NewUpdate().Model(m).Set("provider_sid = 'SMdb3'").WherePK().Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	var seen []string
	record := func(_ context.Context, _ bun.IDB, ch *db.StatusChange) error {
		seen = append(seen, ch.Status)
		return nil
	}
	if _, err := db.ApplyProviderStatus(t.Context(), bdb, "SMdb3", db.StatusDelivered, nil, record); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyProviderStatus(t.Context(), bdb, "SMdb3", db.StatusSent, nil, record); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != db.StatusDelivered {
		t.Errorf("callback saw %v, want only DELIVERED", seen)
	}
	boom := errors.New("boom")
	_, err := db.ApplyProviderStatus(t.Context(), bdb, "SMdb3", db.StatusRead, nil,
		func(context.Context, bun.IDB, *db.StatusChange) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var status string
	if err := bdb.NewRaw("SELECT status FROM messages WHERE id = ?", m.ID).Scan(t.Context(), &status); err != nil || status != db.StatusDelivered {
		t.Errorf("status %q after a failing callback, want DELIVERED (rolled back)", status)
	}
}
