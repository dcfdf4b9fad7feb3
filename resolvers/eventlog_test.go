package resolvers_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

const eventsQuery = `query($after: String, $first: Int) { events(after: $after, first: $first) {
  edges { cursor node { id cursor type occurredAt conversation { id } message { id content } } }
  pageInfo { hasNextPage endCursor } } }`

type eventsOut struct {
	Events struct {
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Cursor, Type, OccurredAt string
				Conversation                 *struct{ ID string }
				Message                      *struct{ ID, Content string }
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

// receive stores an inbound message for the company (two events).
func receive(t *testing.T, app *testkit.App, c *db.Company, sid, body string) *db.Message {
	t.Helper()
	m, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: sid,
		From: "whatsapp:+94717936775", To: *c.WhatsAppNumber, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvents_PagesInLogOrderWithTheirObjects(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	var head struct{ EventsHead string }
	gql(t, app, a.token, `{ eventsHead }`, nil, &head)
	var msgs []*db.Message
	for i := range 5 {
		msgs = append(msgs, receive(t, app, a.company, fmt.Sprintf("SMpage%d", i), fmt.Sprintf("m%d", i)))
	}
	want := loggedEvents(t, app, a.company.ID)
	if len(want) != 10 {
		t.Fatalf("%d events logged", len(want))
	}
	waitFinal(t, app, a.company.ID, 10)
	var got []string
	after := &head.EventsHead
	for page := 0; ; page++ {
		var out eventsOut
		gql(t, app, a.token, eventsQuery, map[string]any{"after": after, "first": 3}, &out)
		for _, e := range out.Events.Edges {
			if e.Cursor != e.Node.Cursor {
				t.Errorf("edge cursor %s, node cursor %s", e.Cursor, e.Node.Cursor)
			}
			got = append(got, e.Node.ID)
			if e.Node.Conversation == nil || e.Node.Conversation.ID != fmt.Sprint(msgs[0].ConversationID) {
				t.Errorf("event %s conversation %+v", e.Node.ID, e.Node.Conversation)
			}
			if (e.Node.Type == "MESSAGE_ADDED") != (e.Node.Message != nil) {
				t.Errorf("event %s of type %s has message %+v", e.Node.ID, e.Node.Type, e.Node.Message)
			}
		}
		if !out.Events.PageInfo.HasNextPage {
			break
		}
		if page > 5 {
			t.Fatal("no end")
		}
		after = out.Events.PageInfo.EndCursor
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d events, want %d", len(got), len(want))
	}
	for i, ev := range want {
		if got[i] != fmt.Sprint(ev.ID) {
			t.Errorf("event %d is %s, want %d (log order)", i, got[i], ev.ID)
		}
	}
	// The head moved to the newest event; nothing follows it.
	gql(t, app, a.token, `{ eventsHead }`, nil, &head)
	var out eventsOut
	gql(t, app, a.token, eventsQuery, map[string]any{"after": head.EventsHead}, &out)
	if len(out.Events.Edges) != 0 || out.Events.PageInfo.HasNextPage {
		t.Errorf("events after the head: %+v", out.Events)
	}
	if head.EventsHead != resolvers.EventCursor(want[len(want)-1].Position()) {
		t.Errorf("head %s is not the newest event's cursor", head.EventsHead)
	}
}

func TestEvents_BadInput(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name  string
		vars  map[string]any
		code  string
		inSub bool
	}{
		{"not base64", map[string]any{"after": "!!!"}, "BAD_USER_INPUT", true},
		{"another list's cursor", map[string]any{"after": b64(`{"k":"c","n":1}`)}, "BAD_USER_INPUT", true},
		{"no position", map[string]any{"after": b64("ev1:")}, "BAD_USER_INPUT", true},
		{"negative", map[string]any{"after": b64("ev1:-1:5")}, "BAD_USER_INPUT", true},
		{"overflow", map[string]any{"after": b64("ev1:99999999999999999999:1")}, "BAD_USER_INPUT", true},
		{"too long", map[string]any{"after": b64(fmt.Sprintf("ev1:%0200d:1", 1))}, "BAD_USER_INPUT", true},
		{"first 0", map[string]any{"first": 0}, "BAD_USER_INPUT", false},
		{"first too big", map[string]any{"first": 501}, "BAD_USER_INPUT", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, a.token, eventsQuery, tc.vars, tc.code)
		})
	}
	wantCode(t, app, "", `{ eventsHead }`, nil, "UNAUTHENTICATED")
	wantCode(t, app, "", eventsQuery, nil, "UNAUTHENTICATED")
}

// A cursor behind events the retention removed is CURSOR_EXPIRED; one at the
// horizon or after it is not, and neither is a cursor of a company the purge did
// not touch.
func TestEvents_CursorBehindTheRetentionHorizonExpires(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	b := newTenant(t, app)
	var head struct{ EventsHead string }
	gql(t, app, a.token, `{ eventsHead }`, nil, &head)
	old := head.EventsHead
	receive(t, app, a.company, "SMold1", "old")
	receive(t, app, a.company, "SMold2", "old")
	receive(t, app, b.company, "SMoldb", "old")
	waitFinal(t, app, a.company.ID, 4)
	waitFinal(t, app, b.company.ID, 2)
	// A's first message is a week old; the purge removes its two events only.
	first := loggedEvents(t, app, a.company.ID)[:2]
	if _, err := app.DB.NewRaw("UPDATE events SET occurred_at = now() - interval '8 days' WHERE id IN (?, ?)",
		first[0].ID, first[1].ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	n, err := app.Resolver.PurgeEvents(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v; want 2", n, err)
	}
	wantCode(t, app, a.token, eventsQuery, map[string]any{"after": old}, "CURSOR_EXPIRED")
	wantCode(t, app, a.token, eventsQuery, map[string]any{"after": resolvers.EventCursor(first[0].Position())}, "CURSOR_EXPIRED")
	var out eventsOut
	gql(t, app, a.token, eventsQuery, map[string]any{"after": resolvers.EventCursor(first[1].Position())}, &out)
	if len(out.Events.Edges) != 2 {
		t.Errorf("%d events after the horizon, want 2", len(out.Events.Edges))
	}
	// Without a cursor: from the oldest kept.
	gql(t, app, a.token, eventsQuery, nil, &out)
	if len(out.Events.Edges) != 2 {
		t.Errorf("%d events from the start, want the 2 kept", len(out.Events.Edges))
	}
	// B lost nothing: A's old cursor is fine there, and shows only B's events.
	gql(t, app, b.token, eventsQuery, map[string]any{"after": old}, &out)
	if len(out.Events.Edges) != 2 {
		t.Errorf("B sees %d events, want its 2", len(out.Events.Edges))
	}
	// The head never expires, even of a company whose every event was removed.
	gql(t, app, a.token, `{ eventsHead }`, nil, &head)
	gql(t, app, a.token, eventsQuery, map[string]any{"after": head.EventsHead}, &out)
}

func TestEvents_TenantIsolation(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	b := newTenant(t, app)
	receive(t, app, a.company, "SMa1", "for A")
	waitFinal(t, app, a.company.ID, 2)
	var headB struct{ EventsHead string }
	gql(t, app, b.token, `{ eventsHead }`, nil, &headB)
	receive(t, app, a.company, "SMa2", "for A")
	waitFinal(t, app, a.company.ID, 4)
	evsA := loggedEvents(t, app, a.company.ID)
	var out eventsOut
	// B from the start, from its head, and from a cursor of A's: nothing of A.
	for _, after := range []*string{nil, &headB.EventsHead, ptr(resolvers.EventCursor(evsA[0].Position())), ptr(resolvers.EventCursor(db.Position{}))} {
		gql(t, app, b.token, eventsQuery, map[string]any{"after": after}, &out)
		if len(out.Events.Edges) != 0 {
			t.Errorf("B sees %d events of A", len(out.Events.Edges))
		}
	}
	// A's head is not B's.
	var headA struct{ EventsHead string }
	gql(t, app, a.token, `{ eventsHead }`, nil, &headA)
	if headA.EventsHead == headB.EventsHead {
		t.Error("A and B have the same head")
	}
}

func ptr[T any](v T) *T { return &v }
