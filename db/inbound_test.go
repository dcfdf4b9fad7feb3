package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

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

// receive runs db.ReceiveInbound in a transaction of its own, rolled back on error.
func receive(t *testing.T, bdb *bun.DB, contact *db.User, msg *db.Message, atts []*db.Attachment, notify []db.Notification) error {
	t.Helper()
	return bdb.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		return db.ReceiveInbound(ctx, tx, contact, msg, atts, notify)
	})
}

func TestReceiveInbound_StoresOnceAndRollsBackARepeat(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	contact, msg, atts := inbound(company.ID, "+94717936775", "SMdb1", at)
	if err := receive(t, bdb, contact, msg, atts, nil); err != nil {
		t.Fatalf("first: %v", err)
	}
	if contact.ID == 0 || msg.ConversationID == 0 || *msg.SenderID != contact.ID || atts[0].ID == 0 || *atts[0].MessageID != msg.ID {
		t.Errorf("rows not filled: contact %+v message %+v attachment %+v", contact, msg, atts[0])
	}
	contact2, msg2, atts2 := inbound(company.ID, "+94717936775", "SMdb1", at.Add(time.Hour))
	if err := receive(t, bdb, contact2, msg2, atts2, nil); !errors.Is(err, db.ErrDuplicateInbound) {
		t.Fatalf("repeat: err = %v, want ErrDuplicateInbound", err)
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

// The statement that stores the message sends the notifications it is given, with
// the conversation's id written where asked, on commit only.
func TestReceiveInbound_SendsTheNotificationsWithTheConversationID(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	ln := pgdriver.NewListener(bdb)
	if err := ln.Listen(t.Context(), "connectme_test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	contact, msg, atts := inbound(company.ID, "+94717936775", "SMdb4", time.Now())
	notify := []db.Notification{
		{Channel: "connectme_test", Payload: `{"k":"a"}`, ConversationKey: "v"},
		{Channel: "connectme_test", Payload: `{"k":"b","v":7}`},
	}
	if err := receive(t, bdb, contact, msg, atts, notify); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf(`{"k": "a", "v": %d}`, msg.ConversationID), `{"k":"b","v":7}`}
	for i, w := range want {
		select {
		case n := <-ln.Channel():
			if n.Payload != w {
				t.Errorf("notification %d = %s, want %s", i, n.Payload, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("notification %d never came", i)
		}
	}
}

func TestReceiveInbound_AFailingNotificationStoresNothing(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	contact, msg, atts := inbound(company.ID, "+94717936775", "SMdb2", time.Now())
	// NOTIFY payloads stop at 8000 bytes: the statement fails, and with it the store.
	tooLong := []db.Notification{{Channel: "connectme_test", Payload: `{"x":"` + strings.Repeat("x", 9000) + `"}`, ConversationKey: "v"}}
	if err := receive(t, bdb, contact, msg, atts, tooLong); err == nil {
		t.Fatal("a failing NOTIFY did not fail the receive")
	}
	for _, table := range []string{"messages", "attachments", "conversations", "users"} {
		if got := rows(t, bdb, table); got != 0 {
			t.Errorf("%s = %d after a rolled back receive", table, got)
		}
	}
}
