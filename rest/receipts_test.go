package rest_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const receiptsQuery = `query($id: ID!) { messages(conversationId: $id, first: 20) { edges { node {
	id status sentAt deliveredAt readAt readBy { id } } } } }`

type receipt struct {
	ID, Status                  string
	SentAt, DeliveredAt, ReadAt *time.Time
	ReadBy                      *struct{ ID string }
}

func receipts(t *testing.T, w *world, convID int64) map[string]receipt {
	t.Helper()
	res := w.app.GraphQL(w.app.Token(w.agentA), receiptsQuery, map[string]any{"id": itoa(convID)})
	if len(res.Errors) > 0 {
		t.Fatalf("messages: %+v", res.Errors)
	}
	var data struct {
		Messages struct{ Edges []struct{ Node receipt } }
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	out := map[string]receipt{}
	for _, e := range data.Messages.Edges {
		out[e.Node.ID] = e.Node
	}
	return out
}

func at(p *time.Time) string {
	if p == nil {
		return "null"
	}
	return p.UTC().Format(time.RFC3339Nano)
}

func TestStatus_ReceiptTimesFillForwardOnly(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	readFirst, inOrder, failed := newSID(), newSID(), newSID()
	mRead := outbound(t, w.app, conv, readFirst)
	mOrder := outbound(t, w.app, conv, inOrder)
	mFailed := outbound(t, w.app, conv, failed)
	status := func(sid, st string) {
		t.Helper()
		if r := postForm(w.app, "/message/status", url.Values{"MessageSid": {sid}, "MessageStatus": {st}}); r.Status != 201 {
			t.Fatalf("%s %s: %d %s", sid, st, r.Status, r.Body)
		}
	}
	t0 := w.now()
	if got := receipts(t, w, conv.ID)[mRead.HexID()]; got.SentAt != nil || got.DeliveredAt != nil || got.ReadAt != nil {
		t.Fatalf("before any callback: %+v", got)
	}
	status(readFirst, "read") // READ first: every receipt at its time
	status(inOrder, "sent")
	w.app.Clock.Set(t0.Add(time.Minute))
	status(readFirst, "delivered") // late: changes nothing
	status(inOrder, "delivered")
	status(failed, "failed")
	t1 := w.now()

	got := receipts(t, w, conv.ID)
	r := got[mRead.HexID()]
	if r.Status != db.StatusRead || at(r.SentAt) != at(&t0) || at(r.DeliveredAt) != at(&t0) || at(r.ReadAt) != at(&t0) || r.ReadBy != nil {
		t.Errorf("read first: %+v", r)
	}
	o := got[mOrder.HexID()]
	if o.Status != db.StatusDelivered || at(o.SentAt) != at(&t0) || at(o.DeliveredAt) != at(&t1) || o.ReadAt != nil {
		t.Errorf("in order: %+v", o)
	}
	if f := got[mFailed.HexID()]; f.Status != db.StatusFailed || f.SentAt != nil || f.DeliveredAt != nil || f.ReadAt != nil {
		t.Errorf("failed: %+v", f)
	}
}

func TestStatus_HeldCallbackStampsItsOwnTime(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	m := outbound(t, w.app, conv, "")
	sid := newSID()
	t0 := w.now()
	// DELIVERED arrives before the send recorded the sid; the send's answer
	// (queued) comes a minute later.
	if r := postForm(w.app, "/message/status", url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}}); r.Status != 201 {
		t.Fatalf("held: %d %s", r.Status, r.Body)
	}
	w.app.Clock.Set(t0.Add(time.Minute))
	if err := w.app.Resolver.RecordSend(t.Context(), db.SentOutcome{CompanyID: w.a.ID, MessageID: m.ID, SID: sid,
		Status: db.StatusQueued}, nil); err != nil {
		t.Fatal(err)
	}
	r := receipts(t, w, conv.ID)[m.HexID()]
	if r.Status != db.StatusDelivered || at(r.DeliveredAt) != at(&t0) || at(r.SentAt) != at(&t0) {
		t.Errorf("held delivered: %+v, want both at %v", r, t0)
	}
}

func TestMarkConversationRead_RecordsWhenAndWho(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	in := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "hello", w.now().Add(-time.Hour))
	if r := receipts(t, w, conv.ID)[in.HexID()]; r.ReadAt != nil || r.ReadBy != nil {
		t.Fatalf("unread: %+v", r)
	}
	res := w.app.GraphQL(w.app.Token(w.agentA), `mutation($id: ID!) { markConversationRead(conversationId: $id) { markedCount } }`,
		map[string]any{"id": itoa(conv.ID)})
	if len(res.Errors) > 0 {
		t.Fatalf("mark read: %+v", res.Errors)
	}
	now := w.now()
	r := receipts(t, w, conv.ID)[in.HexID()]
	if r.Status != db.StatusRead || at(r.ReadAt) != at(&now) || r.ReadBy == nil || r.ReadBy.ID != itoa(w.agentA.ID) || r.SentAt != nil {
		t.Errorf("read: %+v", r)
	}
	// B's agent cannot mark A's conversation read (nor so become its reader).
	res = w.app.GraphQL(w.tokB, `mutation($id: ID!) { markConversationRead(conversationId: $id) { markedCount } }`,
		map[string]any{"id": itoa(conv.ID)})
	if res.Code() != "FORBIDDEN" {
		t.Errorf("B marks A's conversation read: %+v", res.Errors)
	}
}
