package resolvers_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

const (
	setStatusMutation = `mutation($c: ID!, $s: ConversationStatus!, $u: Time) {
  setConversationStatus(conversationId: $c, status: $s, snoozedUntil: $u) { id status snoozedUntil assignee { id } } }`
	assignMutation = `mutation($c: ID!, $a: ID) { assignConversation(conversationId: $c, assigneeId: $a) { id status assignee { id } } }`
	claimMutation  = `mutation($c: ID!) { claimConversation(conversationId: $c) { id assignee { id } } }`
)

type workflowConv struct {
	ID           string
	Status       string
	SnoozedUntil *time.Time
	Assignee     *struct{ ID string }
}

// recorder counts the conversationUpdated events of one company, per conversation.
type recorder struct {
	mu sync.Mutex
	n  map[int64]int
}

func record(t *testing.T, bus *events.Bus, companyID int64) *recorder {
	rec := &recorder{n: map[int64]int{}}
	s := bus.Attach(companyID, func(ev *events.Event) bool {
		if ev.Kind == events.ConversationUpdated {
			rec.mu.Lock()
			rec.n[ev.ConversationID]++
			rec.mu.Unlock()
		}
		return true
	}, nil)
	t.Cleanup(s.Close)
	return rec
}

func (r *recorder) count(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[id]
}

// waitFor polls cond until it holds, or fails after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

func id(n int64) string { return fmt.Sprint(n) }

func TestSetConversationStatus_ChangesAndPublishes(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, tn.company.ID, ago(app, time.Hour))
	rec := record(t, app.Bus, tn.company.ID)
	var out struct{ SetConversationStatus workflowConv }
	gql(t, app, tn.token, setStatusMutation, map[string]any{"c": id(conv.ID), "s": "PENDING"}, &out)
	if out.SetConversationStatus.Status != "PENDING" || out.SetConversationStatus.SnoozedUntil != nil {
		t.Fatalf("pending: %+v", out.SetConversationStatus)
	}
	until := app.Clock.Now().Add(48 * time.Hour).Truncate(time.Second)
	gql(t, app, tn.token, setStatusMutation, map[string]any{"c": id(conv.ID), "s": "SNOOZED", "u": until}, &out)
	if s := out.SetConversationStatus; s.Status != "SNOOZED" || s.SnoozedUntil == nil || !s.SnoozedUntil.Equal(until) {
		t.Fatalf("snoozed: %+v", s)
	}
	// Leaving SNOOZED clears the time.
	gql(t, app, tn.token, setStatusMutation, map[string]any{"c": id(conv.ID), "s": "RESOLVED"}, &out)
	if s := out.SetConversationStatus; s.Status != "RESOLVED" || s.SnoozedUntil != nil {
		t.Fatalf("resolved: %+v", s)
	}
	waitFor(t, 5*time.Second, "three conversationUpdated", func() bool { return rec.count(conv.ID) == 3 })
	// The same status again changes nothing and publishes nothing.
	gql(t, app, tn.token, setStatusMutation, map[string]any{"c": id(conv.ID), "s": "RESOLVED"}, &out)
	time.Sleep(200 * time.Millisecond)
	if n := rec.count(conv.ID); n != 3 {
		t.Fatalf("%d events after a no-op, want 3", n)
	}
}

func TestSetConversationStatus_BadInputAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	tn, other := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, tn.company.ID, time.Time{})
	foreign := testkit.Conversation(t, app.DB, other.company.ID, time.Time{})
	now := app.Clock.Now()
	for _, tc := range []struct {
		name string
		vars map[string]any
		code string
	}{
		{"snoozed without a time", map[string]any{"c": id(conv.ID), "s": "SNOOZED"}, "BAD_USER_INPUT"},
		{"snoozed into the past", map[string]any{"c": id(conv.ID), "s": "SNOOZED", "u": now.Add(-time.Minute)}, "BAD_USER_INPUT"},
		{"snoozed over 90 days", map[string]any{"c": id(conv.ID), "s": "SNOOZED", "u": now.Add(91 * 24 * time.Hour)}, "BAD_USER_INPUT"},
		{"open with a time", map[string]any{"c": id(conv.ID), "s": "OPEN", "u": now.Add(time.Hour)}, "BAD_USER_INPUT"},
		{"resolved with a time", map[string]any{"c": id(conv.ID), "s": "RESOLVED", "u": now.Add(time.Hour)}, "BAD_USER_INPUT"},
		{"bad id", map[string]any{"c": "x", "s": "OPEN"}, "BAD_USER_INPUT"},
		{"unknown status", map[string]any{"c": id(conv.ID), "s": "CLOSED"}, "GRAPHQL_VALIDATION_FAILED"},
		{"another company's conversation", map[string]any{"c": id(foreign.ID), "s": "RESOLVED"}, "FORBIDDEN"},
		{"no such conversation", map[string]any{"c": "999999999", "s": "RESOLVED"}, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, app, tn.token, setStatusMutation, tc.vars, tc.code) })
	}
	var st string
	if err := app.DB.NewRaw("SELECT status FROM conversations WHERE id = ?", foreign.ID).Scan(t.Context(), &st); err != nil || st != "OPEN" {
		t.Fatalf("the other company's conversation: %q %v", st, err)
	}
}

func TestInbound_ReopensAndAgentMessagesDoNot(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	rec := record(t, app.Bus, tn.company.ID)
	receive := func(sid string) int64 {
		msg, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: sid,
			From: "whatsapp:+94717936775", To: *tn.company.WhatsAppNumber, Body: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		return msg.ConversationID
	}
	cid := receive("SM00000000000000000000000000000001")
	status := func() (string, *time.Time) {
		var c db.Conversation
		if err := app.DB.NewSelect().Model(&c).Where("id = ?", cid).Scan(t.Context()); err != nil {
			t.Fatal(err)
		}
		return c.Status, c.SnoozedUntil
	}
	if s, _ := status(); s != "OPEN" {
		t.Fatalf("a new conversation is %s", s)
	}
	for i, tc := range []struct {
		status string
		until  any
	}{{"PENDING", nil}, {"SNOOZED", app.Clock.Now().Add(time.Hour)}, {"RESOLVED", nil}} {
		gql(t, app, tn.token, setStatusMutation, map[string]any{"c": id(cid), "s": tc.status, "u": tc.until}, nil)
		// An agent's own message changes no status.
		gql(t, app, tn.token, sendMutation, map[string]any{"in": map[string]any{"to": id(*mustContact(t, app, cid)), "text": "hi"}}, nil)
		if s, _ := status(); s != tc.status {
			t.Fatalf("after the agent's message: %s, want %s", s, tc.status)
		}
		before := rec.count(cid)
		receive(fmt.Sprintf("SM%032d", i+10))
		if s, u := status(); s != "OPEN" || u != nil {
			t.Fatalf("after an inbound message %s was %s until %v", tc.status, s, u)
		}
		waitFor(t, 15*time.Second, "conversationUpdated for the reopening", func() bool { return rec.count(cid) > before })
	}
}

// mustContact returns the contact id of a conversation.
func mustContact(t *testing.T, app *testkit.App, convID int64) *int64 {
	t.Helper()
	var uid int64
	if err := app.DB.NewRaw("SELECT user_id FROM conversations WHERE id = ?", convID).Scan(t.Context(), &uid); err != nil {
		t.Fatal(err)
	}
	return &uid
}
