package resolvers_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

const addNoteMutation = `mutation($c: ID!, $t: String!) { addNote(conversationId: $c, text: $t) {
  id type direction status content sender { id } conversation { id } } }`

const noteConvQuery = `query($id: ID!) { conversation(id: $id) { lastUpdateTime lastFreeMessageTime unreadCount
  lastMessage { id } messages(first: 10) { totalCount edges { node { id type } } } } }`

type noteConv struct {
	Conversation struct {
		LastUpdateTime, LastFreeMessageTime *time.Time
		UnreadCount                         int
		LastMessage                         *struct{ ID string }
		Messages                            struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Type string } }
		}
	}
}

// A note is listed to agents but never sent, never in the legacy lists, and it
// changes neither the window, the last update, the last message nor the unread count.
func TestAddNote_PrivateAndChangesNothingElse(t *testing.T) {
	var sends atomic.Int64
	app := testkit.NewAppWith(t, testkit.With{Provider: testkit.ProviderFunc(
		func(context.Context, *twilio.Message) (*twilio.Result, error) {
			sends.Add(1)
			return &twilio.Result{SID: fmt.Sprintf("SM%032d", sends.Load()), Status: "queued"}, nil
		})})
	tn := newTenant(t, app)
	// A closed window: notes are allowed whatever the window.
	conv := testkit.Conversation(t, app.DB, tn.company.ID, ago(app, 48*time.Hour))
	last := testkit.Message(t, app.DB, conv, db.DirectionReceived, "needle from the customer", ago(app, 48*time.Hour))
	var before noteConv
	gql(t, app, tn.token, noteConvQuery, map[string]any{"id": id(conv.ID)}, &before)

	added := make(chan string, 4)
	sub := app.Bus.Attach(tn.company.ID, func(ev *events.Event) bool {
		if ev.Kind == events.MessageAdded {
			added <- ev.MessageID
		}
		return true
	}, nil)
	defer sub.Close()
	var out struct {
		AddNote struct {
			ID, Type, Direction, Status, Content string
			Sender                               struct{ ID string }
			Conversation                         struct{ ID string }
		}
	}
	gql(t, app, tn.token, addNoteMutation, map[string]any{"c": id(conv.ID), "t": "needle: call them back Monday"}, &out)
	n := out.AddNote
	if n.Type != "NOTE" || n.Direction != "SENT" || n.Status != "SENT" || n.Sender.ID != id(tn.agent.ID) ||
		n.Conversation.ID != id(conv.ID) {
		t.Fatalf("note: %+v", n)
	}
	select {
	case got := <-added:
		if got != n.ID {
			t.Fatalf("messageAdded for %s, want %s", got, n.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no messageAdded for the note")
	}
	// The note is in the company's event log too (events(after:), webhooks).
	if evs := loggedEvents(t, app, tn.company.ID); len(evs) != 1 || evs[0].Type != db.EventMessageAdded ||
		evs[0].MessageID == nil || db.HexID(*evs[0].MessageID) != n.ID {
		t.Fatalf("event log after the note: %+v", evs)
	}

	var after noteConv
	gql(t, app, tn.token, noteConvQuery, map[string]any{"id": id(conv.ID)}, &after)
	b, a := before.Conversation, after.Conversation
	if !a.LastUpdateTime.Equal(*b.LastUpdateTime) || !a.LastFreeMessageTime.Equal(*b.LastFreeMessageTime) ||
		a.UnreadCount != b.UnreadCount || a.LastMessage == nil || a.LastMessage.ID != db.HexID(last.ID) {
		t.Fatalf("the note changed the conversation: before %+v after %+v", b, a)
	}
	if a.Messages.TotalCount != 2 || a.Messages.Edges[0].Node.Type != "NOTE" {
		t.Fatalf("GraphQL messages: %+v", a.Messages)
	}
	var found struct {
		SearchMessages struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID, Type string } }
		}
	}
	gql(t, app, tn.token, `{ searchMessages(term: "needle") { totalCount edges { node { id type } } } }`, nil, &found)
	if found.SearchMessages.TotalCount != 2 {
		t.Fatalf("GraphQL search: %+v", found.SearchMessages)
	}

	// Legacy REST: neither in the message page (nor its count) nor in the search.
	var page struct {
		TotalCount int
		Data       []struct{ MessageID string }
	}
	app.Do("GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=20", conv.ID), tn.token, nil).JSON(t, &page)
	if page.TotalCount != 1 || len(page.Data) != 1 || page.Data[0].MessageID != db.HexID(last.ID) {
		t.Fatalf("legacy page: %+v", page)
	}
	app.Do("GET", "/message/message-search/needle?page=1&limit=20", tn.token, nil).JSON(t, &page)
	if page.TotalCount != 1 || len(page.Data) != 1 || page.Data[0].MessageID != db.HexID(last.ID) {
		t.Fatalf("legacy search: %+v", page)
	}
	app.Do("GET", "/message/message-search/Monday?page=1&limit=20", tn.token, nil).JSON(t, &page)
	if page.TotalCount != 0 || len(page.Data) != 0 {
		t.Fatalf("legacy search for the note alone: %+v", page)
	}
	// Never to the provider: no delivery row, no call.
	time.Sleep(300 * time.Millisecond)
	if sends.Load() != 0 || countRows(t, app, "deliveries") != 0 {
		t.Fatalf("%d sends, %d deliveries", sends.Load(), countRows(t, app, "deliveries"))
	}
}

func TestAddNote_BadInputAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	tn, other := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, tn.company.ID, time.Time{})
	foreign := testkit.Conversation(t, app.DB, other.company.ID, time.Time{})
	for _, tc := range []struct {
		name, conv, text, code string
	}{
		{"empty", id(conv.ID), "", "BAD_USER_INPUT"},
		{"blank", id(conv.ID), " \n ", "BAD_USER_INPUT"},
		{"too long", id(conv.ID), strings.Repeat("é", 4097), "BAD_USER_INPUT"},
		{"control character", id(conv.ID), "a\x00b", "BAD_USER_INPUT"},
		{"bad id", "x", "hello", "BAD_USER_INPUT"},
		{"another company's conversation", id(foreign.ID), "hello", "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, tn.token, addNoteMutation, map[string]any{"c": tc.conv, "t": tc.text}, tc.code)
		})
	}
	gql(t, app, tn.token, addNoteMutation, map[string]any{"c": id(conv.ID), "t": strings.Repeat("é", 4096)}, nil)
	if n := countRows(t, app, "messages"); n != 1 {
		t.Fatalf("%d messages, want the one good note", n)
	}
	// sendMessage cannot send a note.
	contact := testkit.Contact(t, app.DB, tn.company.ID)
	wantCode(t, app, tn.token, sendMutation, map[string]any{"in": map[string]any{"to": id(contact.ID), "text": "x", "type": "NOTE"}}, "BAD_USER_INPUT")
}
