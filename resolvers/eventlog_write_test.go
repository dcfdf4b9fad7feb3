package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// waitFinal waits until the company's n logged events are final (readable): the
// transactions of other tests on the same PostgreSQL can hold them back a moment.
func waitFinal(t *testing.T, app *testkit.App, companyID int64, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, _, err := db.EventsAfter(t.Context(), app.DB, companyID, db.Position{}, n+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events final after 30s", len(evs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// loggedEvents returns the company's event-log rows in log order.
func loggedEvents(t *testing.T, app *testkit.App, companyID int64) []db.Event {
	t.Helper()
	var evs []db.Event
	if err := app.DB.NewSelect().Model(&evs).Where("company_id = ?", companyID).OrderExpr("xid, id").
		Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestEventLog_InboundMessageWritesItsEventsInItsStatement(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	other := testkit.Company(t, app.DB)
	msg, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: "SMlog1",
		From: "whatsapp:+94717936775", To: *company.WhatsAppNumber, Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	evs := loggedEvents(t, app, company.ID)
	if len(evs) != 2 {
		t.Fatalf("%d events logged, want 2: %+v", len(evs), evs)
	}
	if evs[0].Type != db.EventMessageAdded || evs[0].MessageID == nil || *evs[0].MessageID != msg.ID ||
		evs[0].ConversationID == nil || *evs[0].ConversationID != msg.ConversationID {
		t.Errorf("first event %+v, want MESSAGE_ADDED of %s in %d", evs[0], msg.ID, msg.ConversationID)
	}
	if evs[1].Type != db.EventConversationUpdated || evs[1].ConversationID == nil || *evs[1].ConversationID != msg.ConversationID ||
		evs[1].MessageID != nil {
		t.Errorf("second event %+v, want CONVERSATION_UPDATED of %d", evs[1], msg.ConversationID)
	}
	if evs[0].XID != evs[1].XID || evs[0].XID == 0 {
		t.Errorf("the two events have xids %d and %d, want the writing transaction's", evs[0].XID, evs[1].XID)
	}
	if n := len(loggedEvents(t, app, other.ID)); n != 0 {
		t.Errorf("another company has %d events", n)
	}
}

// A duplicate webhook rolls its transaction back: the events its statement wrote
// go with it.
func TestEventLog_NothingIsLoggedOnRollback(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	in := resolvers.InboundMessage{MessageSID: "SMlogdup", From: "whatsapp:+94717936775", To: *company.WhatsAppNumber, Body: "hi"}
	if _, dup, err := app.Resolver.ReceiveMessage(t.Context(), in); err != nil || dup {
		t.Fatal(dup, err)
	}
	before := loggedEvents(t, app, company.ID)
	if _, dup, err := app.Resolver.ReceiveMessage(t.Context(), in); err != nil || !dup {
		t.Fatalf("second delivery: dup=%v err=%v", dup, err)
	}
	if after := loggedEvents(t, app, company.ID); len(after) != len(before) {
		t.Errorf("%d events after the rolled-back duplicate, want %d", len(after), len(before))
	}
	var ids int
	if err := app.DB.NewRaw("SELECT count(*) FROM events").Scan(t.Context(), &ids); err != nil || ids != len(before) {
		t.Errorf("%d rows in events, want %d (%v)", ids, len(before), err)
	}
}

func TestEventLog_SendAndMarkReadAreLogged(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	in := testkit.Message(t, app.DB, conv, db.DirectionReceived, "hello", ago(app, time.Minute))
	var out sendOut
	gql(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "hi"}}, &out)
	gql(t, app, a.token, `mutation($id: ID!) { markConversationRead(conversationId: $id) { markedCount } }`,
		map[string]any{"id": fmt.Sprint(conv.ID)}, nil)
	seen := map[string]bool{}
	for _, ev := range loggedEvents(t, app, a.company.ID) {
		if ev.ConversationID == nil || *ev.ConversationID != conv.ID {
			t.Errorf("event %+v of another conversation", ev)
		}
		key := ev.Type
		if ev.MessageID != nil {
			key += " " + db.HexID(*ev.MessageID)
		}
		seen[key] = true
	}
	for _, want := range []string{"MESSAGE_ADDED " + out.SendMessage.Message.ID, "CONVERSATION_UPDATED",
		"MESSAGE_STATUS_CHANGED " + in.HexID()} {
		if !seen[want] {
			t.Errorf("no %s event; logged: %v", want, seen)
		}
	}
}
