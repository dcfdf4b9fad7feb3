package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

type edgeList struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
}

func TestCursors_LiveItemsCarryTheirListCursor(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	// The clock has nanoseconds, which the database does not keep: a live item's
	// cursor must still be the stored row's (the resolvers' clock truncates).
	app.Clock.Set(time.Date(2026, 3, 14, 9, 26, 53, 123_456_789, time.UTC))
	a.token = app.Token(a.agent)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	older := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 2*time.Hour))
	for i := 0; i < 3; i++ {
		testkit.Message(t, app.DB, conv, db.DirectionReceived, fmt.Sprint("old ", i), ago(app, time.Duration(50-i)*time.Minute))
	}
	var sent struct {
		SendMessage struct {
			Message      struct{ ID, Cursor string }
			Conversation struct{ ID, Cursor string }
		}
	}
	gql(t, app, a.token, `mutation($in: SendMessageInput!) { sendMessage(input: $in) {
		message { id cursor } conversation { id cursor } } }`,
		map[string]any{"in": map[string]any{"conversationId": fmt.Sprint(conv.ID), "text": "live"}}, &sent)
	live := sent.SendMessage

	var lists struct {
		Messages      edgeList
		Conversations edgeList
		Conversation  struct {
			Cursor      string
			LastMessage struct{ ID, Cursor string }
		}
	}
	gql(t, app, a.token, `query($id: ID!) {
		messages(conversationId: $id, first: 10) { edges { cursor node { id } } }
		conversations(first: 10) { edges { cursor node { id } } }
		conversation(id: $id) { cursor lastMessage { id cursor } } }`,
		map[string]any{"id": fmt.Sprint(conv.ID)}, &lists)
	if len(lists.Messages.Edges) != 4 || lists.Messages.Edges[0].Node.ID != live.Message.ID ||
		lists.Messages.Edges[0].Cursor != live.Message.Cursor {
		t.Fatalf("message cursor %q, list %+v", live.Message.Cursor, lists.Messages.Edges)
	}
	if len(lists.Conversations.Edges) != 2 || lists.Conversations.Edges[0].Node.ID != live.Conversation.ID ||
		lists.Conversations.Edges[0].Cursor != live.Conversation.Cursor || lists.Conversation.Cursor != live.Conversation.Cursor {
		t.Fatalf("conversation cursor %q, list %+v", live.Conversation.Cursor, lists.Conversations.Edges)
	}
	if lists.Conversation.LastMessage.Cursor != live.Message.Cursor {
		t.Errorf("lastMessage cursor %q, want %q", lists.Conversation.LastMessage.Cursor, live.Message.Cursor)
	}

	// Paging from the live cursors continues the lists.
	var after struct {
		Messages      edgeList
		Conversations edgeList
	}
	gql(t, app, a.token, `query($id: ID!, $m: String, $c: String) {
		messages(conversationId: $id, first: 2, after: $m) { edges { cursor node { id } } }
		conversations(first: 10, after: $c) { edges { cursor node { id } } } }`,
		map[string]any{"id": fmt.Sprint(conv.ID), "m": live.Message.Cursor, "c": live.Conversation.Cursor}, &after)
	if len(after.Messages.Edges) != 2 || after.Messages.Edges[0].Cursor != lists.Messages.Edges[1].Cursor {
		t.Errorf("messages after the live one: %+v", after.Messages.Edges)
	}
	if len(after.Conversations.Edges) != 1 || after.Conversations.Edges[0].Node.ID != fmt.Sprint(older.ID) {
		t.Errorf("conversations after the live one: %+v", after.Conversations.Edges)
	}
	// A message's cursor is refused by the conversation list, and the other way round.
	wantCode(t, app, a.token, `query($c: String) { conversations(after: $c) { totalCount } }`,
		map[string]any{"c": live.Message.Cursor}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, `query($id: ID!, $m: String) { messages(conversationId: $id, after: $m) { totalCount } }`,
		map[string]any{"id": fmt.Sprint(conv.ID), "m": live.Conversation.Cursor}, "BAD_USER_INPUT")
}
