package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const conversationsQuery = `query($first: Int, $after: String, $filter: ConversationFilter) {
  conversations(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id contact { id firstName phone } channel { name }
      lastMessage { id content } unreadCount chatWindow { isOpen remainingSeconds } } }
  }
}`

type convList struct {
	Conversations struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID      string
				Contact struct {
					ID        string
					FirstName string
					Phone     string
				}
				Channel     struct{ Name string }
				LastMessage *struct {
					ID      string
					Content *string
				}
				UnreadCount int
				ChatWindow  struct {
					IsOpen           bool
					RemainingSeconds int
				}
			}
		}
	}
}

func TestConversations_OrderFieldsAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	old := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 48*time.Hour))
	recent := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	never := testkit.Conversation(t, app.DB, a.company.ID, time.Time{})
	testkit.Message(t, app.DB, recent, db.DirectionReceived, "first", ago(app, 2*time.Hour))
	last := testkit.Message(t, app.DB, recent, db.DirectionReceived, "second", ago(app, time.Hour))
	testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Minute)) // other company, newest of all

	var out convList
	gql(t, app, a.token, conversationsQuery, nil, &out)
	c := out.Conversations
	if c.TotalCount != 3 || len(c.Edges) != 3 {
		t.Fatalf("total %d edges %d, want 3 (other company excluded)", c.TotalCount, len(c.Edges))
	}
	wantOrder := []int64{recent.ID, old.ID, never.ID}
	for i, e := range c.Edges {
		if e.Node.ID != fmt.Sprint(wantOrder[i]) {
			t.Errorf("edge %d = %s, want %d (most recent first, never-updated last)", i, e.Node.ID, wantOrder[i])
		}
	}
	top := c.Edges[0].Node
	if top.LastMessage == nil || top.LastMessage.ID != last.HexID() || top.UnreadCount != 2 {
		t.Errorf("top: last message %+v unread %d", top.LastMessage, top.UnreadCount)
	}
	if !top.ChatWindow.IsOpen || top.ChatWindow.RemainingSeconds != 23*3600 {
		t.Errorf("window %+v, want open with 23h left", top.ChatWindow)
	}
	if c.Edges[1].Node.ChatWindow.IsOpen || c.Edges[2].Node.LastMessage != nil || top.Channel.Name != "WHATSAPP" {
		t.Errorf("old/never: %+v %+v", c.Edges[1].Node.ChatWindow, c.Edges[2].Node.LastMessage)
	}
	if top.Contact.Phone != *recent.User.Phone {
		t.Errorf("contact %+v", top.Contact)
	}
}

func TestConversations_PagingAndFilters(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	var ids []int64
	for i := 0; i < 5; i++ {
		c := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Duration(i+1)*time.Hour*10))
		ids = append(ids, c.ID)
	}
	testkit.Message(t, app.DB, &db.Conversation{ID: ids[3], CompanyID: a.company.ID, UserID: 0}, db.DirectionSent, "x", ago(app, time.Hour))

	var seen []string
	var after *string
	for page := 0; page < 5; page++ {
		var out convList
		gql(t, app, a.token, conversationsQuery, map[string]any{"first": 2, "after": after}, &out)
		for _, e := range out.Conversations.Edges {
			seen = append(seen, e.Node.ID)
		}
		if !out.Conversations.PageInfo.HasNextPage {
			break
		}
		after = out.Conversations.PageInfo.EndCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paged %v, want 5 distinct", seen)
	}
	// Window open: the conversations whose contact wrote in the last 24 h (10 h and 20 h ago).
	var open convList
	gql(t, app, a.token, conversationsQuery, map[string]any{"filter": map[string]any{"windowOpen": true}}, &open)
	if open.Conversations.TotalCount != 2 {
		t.Errorf("windowOpen total = %d, want 2", open.Conversations.TotalCount)
	}
	var closed convList
	gql(t, app, a.token, conversationsQuery, map[string]any{"filter": map[string]any{"windowOpen": false}}, &closed)
	if closed.Conversations.TotalCount != 3 {
		t.Errorf("windowOpen=false total = %d, want 3", closed.Conversations.TotalCount)
	}
	// Unread only: none have received messages yet.
	var unread convList
	gql(t, app, a.token, conversationsQuery, map[string]any{"filter": map[string]any{"unreadOnly": true}}, &unread)
	if unread.Conversations.TotalCount != 0 {
		t.Errorf("unreadOnly total = %d, want 0", unread.Conversations.TotalCount)
	}
	// Search by phone digits of one contact.
	var contact db.User
	if err := app.DB.NewSelect().Model(&contact).Where("id = (SELECT user_id FROM conversations WHERE id = ?)", ids[2]).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	var found convList
	gql(t, app, a.token, conversationsQuery, map[string]any{"filter": map[string]any{"search": (*contact.Phone)[3:]}}, &found)
	if found.Conversations.TotalCount != 1 || found.Conversations.Edges[0].Node.ID != fmt.Sprint(ids[2]) {
		t.Errorf("search by phone: %+v", found.Conversations)
	}
}

func TestConversations_BadInput(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	cases := map[string]map[string]any{
		"first over 100":      {"first": 101},
		"negative first":      {"first": -1},
		"garbage cursor":      {"after": "not-a-cursor"},
		"cursor of messages":  {"after": "eyJrIjoibSJ9"},
		"base64 but not JSON": {"after": "aGVsbG8"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			wantCode(t, app, a.token, conversationsQuery, vars, "BAD_USER_INPUT")
		})
	}
	wantCode(t, app, "", conversationsQuery, nil, "UNAUTHENTICATED")
}

func TestConversation_ByIDAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	mine := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	theirs := testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Hour))
	q := `query($id: ID!) { conversation(id: $id) { id contact { id } } }`
	var out struct{ Conversation struct{ ID string } }
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(mine.ID)}, &out)
	if out.Conversation.ID != fmt.Sprint(mine.ID) {
		t.Errorf("got %+v", out)
	}
	other := app.GraphQL(a.token, q, map[string]any{"id": fmt.Sprint(theirs.ID)})
	missing := app.GraphQL(a.token, q, map[string]any{"id": "999999"})
	if other.Code() != "FORBIDDEN" || missing.Code() != "FORBIDDEN" || other.Errors[0].Message != missing.Errors[0].Message {
		t.Errorf("other company %+v, missing %+v: want the same FORBIDDEN", other.Errors, missing.Errors)
	}
	if string(other.Data) != "null" {
		t.Errorf("data leaked: %s", other.Data)
	}
	for _, bad := range []string{"abc", "+1", "-1", "0", "1.5", "99999999999999999999"} {
		wantCode(t, app, a.token, q, map[string]any{"id": bad}, "BAD_USER_INPUT")
	}
}

func TestChatWindow_OpenClosedAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 23*time.Hour))
	q := `query($id: ID!) { chatWindow(conversationId: $id) { isOpen expiresAt remainingSeconds lastFreeMessageTime } }`
	var out struct {
		ChatWindow struct {
			IsOpen           bool
			RemainingSeconds int
			ExpiresAt        *time.Time
		}
	}
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, &out)
	if !out.ChatWindow.IsOpen || out.ChatWindow.RemainingSeconds != 3600 || out.ChatWindow.ExpiresAt == nil {
		t.Errorf("23h in: %+v", out.ChatWindow)
	}
	app.Clock.Set(app.Clock.Now().Add(time.Hour))
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, &out)
	if out.ChatWindow.IsOpen || out.ChatWindow.RemainingSeconds != 0 {
		t.Errorf("at 24h: %+v, want closed", out.ChatWindow)
	}
	wantCode(t, app, b.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, "FORBIDDEN")
}

func TestMarkConversationRead_MarksReceivedOnly(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "1", ago(app, 3*time.Hour))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "2", ago(app, 2*time.Hour))
	sent := testkit.Message(t, app.DB, conv, db.DirectionSent, "3", ago(app, time.Hour))
	q := `mutation($id: ID!) { markConversationRead(conversationId: $id) { markedCount conversation { unreadCount } } }`
	wantCode(t, app, b.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, "FORBIDDEN")
	var out struct {
		MarkConversationRead struct {
			MarkedCount  int
			Conversation struct{ UnreadCount int }
		}
	}
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, &out)
	if out.MarkConversationRead.MarkedCount != 2 || out.MarkConversationRead.Conversation.UnreadCount != 0 {
		t.Errorf("got %+v", out)
	}
	var status string
	_ = app.DB.NewRaw("SELECT status FROM messages WHERE id = ?", sent.ID).Scan(t.Context(), &status)
	if status != db.StatusPending {
		t.Errorf("sent message status = %s, want untouched PENDING", status)
	}
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, &out)
	if out.MarkConversationRead.MarkedCount != 0 {
		t.Errorf("second mark = %d, want 0", out.MarkConversationRead.MarkedCount)
	}
}
