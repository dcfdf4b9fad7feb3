package resolvers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

const sendMutation = `mutation($in: SendMessageInput!) { sendMessage(input: $in) {
  message { id content status direction type template { id } sender { id } conversation { id } }
  conversation { id lastUpdateTime } } }`

type sendOut struct {
	SendMessage struct {
		Message struct {
			ID, Content, Status, Direction, Type string
			Template                             *struct{ ID string }
			Sender                               struct{ ID string }
		}
		Conversation struct{ ID string }
	}
}

func countRows(t *testing.T, app *testkit.App, table string) int {
	t.Helper()
	var n int
	if err := app.DB.NewRaw("SELECT count(*) FROM "+table).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSendMessage_InsideWindowStoresMessageAndDeliveryJob(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	var out sendOut
	gql(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "hello"}}, &out)
	m := out.SendMessage.Message
	if m.Content != "hello" || m.Status != "PENDING" || m.Direction != "SENT" || m.Type != "TEXT" || m.Sender.ID != fmt.Sprint(a.agent.ID) {
		t.Errorf("message %+v", m)
	}
	if out.SendMessage.Conversation.ID != fmt.Sprint(conv.ID) || len(m.ID) != 32 {
		t.Errorf("conversation %s id %q", out.SendMessage.Conversation.ID, m.ID)
	}
	if n := countRows(t, app, "deliveries"); n != 1 {
		t.Errorf("deliveries = %d, want the outbox job written with the message", n)
	}
}

func TestSendMessage_ClosedWindowIsRefusedAndNothingStored(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 24*time.Hour))
	res := app.GraphQL(a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "too late"}})
	if res.Code() != "WINDOW_CLOSED" || !strings.Contains(res.Errors[0].Message, "template") {
		t.Fatalf("got %+v", res.Errors)
	}
	if countRows(t, app, "messages")+countRows(t, app, "deliveries") != 0 {
		t.Error("a refused message was stored")
	}
	// A template is always allowed, rendered with its parameters.
	var out sendOut
	gql(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "templateId": "1", "params": []string{"Ann"}}}, &out)
	if !strings.HasPrefix(out.SendMessage.Message.Content, "Hi Ann! Thanks for contacting Us.") || out.SendMessage.Message.Type != "TEMPLATE" || out.SendMessage.Message.Template.ID != "1" {
		t.Errorf("template message %+v", out.SendMessage.Message)
	}
	var params []string
	if err := app.DB.NewRaw("SELECT template_params FROM messages WHERE template_id = 1").Scan(t.Context(), pgStrings(&params)); err != nil || len(params) != 1 || params[0] != "Ann" {
		t.Errorf("stored params %v %v", params, err)
	}
}

func TestSendMessage_WindowEdgeFollowsTheClock(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 24*time.Hour-time.Second))
	in := map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "just in time"}}
	gql(t, app, a.token, sendMutation, in, nil)
	app.Clock.Set(app.Clock.Now().Add(time.Second))
	wantCode(t, app, a.token, sendMutation, in, "WINDOW_CLOSED")
}

func TestSendMessage_BadInputAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	theirs := testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Hour))
	ownTemplate := &db.Template{CompanyID: &b.company.ID, Name: "b_only", Language: "en", Content: "B {{1}}"}
	if _, err := app.DB.NewInsert().Model(ownTemplate).Returning("*").Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	to := fmt.Sprint(conv.UserID)
	cases := []struct {
		name string
		in   map[string]any
		code string
	}{
		{"no content", map[string]any{"to": to}, "BAD_USER_INPUT"},
		{"empty text", map[string]any{"to": to, "text": ""}, "BAD_USER_INPUT"},
		{"text over 4096", map[string]any{"to": to, "text": strings.Repeat("a", 4097)}, "BAD_USER_INPUT"},
		{"bad to", map[string]any{"to": "abc", "text": "x"}, "BAD_USER_INPUT"},
		{"wrong param count", map[string]any{"to": to, "templateId": "2", "params": []string{"a"}}, "BAD_USER_INPUT"},
		{"params without template", map[string]any{"to": to, "text": "x", "params": []string{"a"}}, "BAD_USER_INPUT"},
		{"type mismatch", map[string]any{"to": to, "text": "x", "type": "TEMPLATE"}, "BAD_USER_INPUT"},
		{"another company's contact", map[string]any{"to": fmt.Sprint(theirs.UserID), "text": "x"}, "FORBIDDEN"},
		{"unknown contact", map[string]any{"to": "999999", "text": "x"}, "FORBIDDEN"},
		{"an agent is not a contact", map[string]any{"to": fmt.Sprint(a.agent.ID), "text": "x"}, "FORBIDDEN"},
		{"another company's template", map[string]any{"to": to, "templateId": fmt.Sprint(ownTemplate.ID), "params": []string{"x"}}, "FORBIDDEN"},
		{"unknown template", map[string]any{"to": to, "templateId": "999999"}, "FORBIDDEN"},
		{"unknown attachment", map[string]any{"to": to, "attachmentId": "999999"}, "FORBIDDEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, a.token, sendMutation, map[string]any{"in": tc.in}, tc.code)
		})
	}
	if n := countRows(t, app, "messages"); n != 0 {
		t.Errorf("messages = %d after refused sends", n)
	}
}

func TestRenderTemplate(t *testing.T) {
	cases := []struct {
		content string
		params  []string
		want    string
		err     bool
	}{
		{"Hi {{1}}!", []string{"Ann"}, "Hi Ann!", false},
		{"{{2}} then {{1}} then {{2}}", []string{"a", "b"}, "b then a then b", false},
		{"{{ 1 }} spaced", []string{"x"}, "x spaced", false},
		{"no placeholders", nil, "no placeholders", false},
		{"Hi {{1}}", nil, "", true},
		{"Hi {{1}}", []string{"a", "b"}, "", true},
		{"{{3}} skips", []string{"a", "b", "c"}, "c skips", false},
		{"param {{1}}", []string{"{{1}}"}, "param {{1}}", false},
	}
	for _, c := range cases {
		got, err := resolvers.RenderTemplate(c.content, c.params)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("Render(%q, %q) = %q, %v", c.content, c.params, got, err)
		}
	}
}

func TestStartNewChat_FindsOrCreatesAndOpensWithTemplate(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	q := `mutation($in: StartNewChatInput!) { startNewChat(input: $in) { conversation { id chatWindow { isOpen } }
	  contact { id firstName phone } message { content type status } } }`
	type out struct {
		StartNewChat struct {
			Conversation struct {
				ID         string
				ChatWindow struct{ IsOpen bool }
			}
			Contact struct{ ID, FirstName, Phone string }
			Message *struct{ Content, Type, Status string }
		}
	}
	var first, second, other out
	gql(t, app, a.token, q, map[string]any{"in": map[string]any{"phone": "+94 71 793 6775", "firstName": "Nimal",
		"templateId": "2", "params": []string{"blue", "shoes", "Monday", "track it"}}}, &first)
	f := first.StartNewChat
	if f.Contact.Phone != "+94717936775" || f.Contact.FirstName != "Nimal" || f.Conversation.ChatWindow.IsOpen {
		t.Errorf("first: %+v", f)
	}
	if f.Message == nil || f.Message.Content != "Your blue order of shoes has shipped and should be delivered on Monday. Details : track it" || f.Message.Type != "TEMPLATE" {
		t.Errorf("opening message: %+v", f.Message)
	}
	gql(t, app, a.token, q, map[string]any{"in": map[string]any{"phone": "+94717936775", "firstName": "Other name"}}, &second)
	if second.StartNewChat.Conversation.ID != f.Conversation.ID || second.StartNewChat.Contact.FirstName != "Nimal" || second.StartNewChat.Message != nil {
		t.Errorf("second call: %+v", second.StartNewChat)
	}
	// The same phone for another company is another contact and conversation.
	gql(t, app, b.token, q, map[string]any{"in": map[string]any{"phone": "+94717936775"}}, &other)
	if other.StartNewChat.Conversation.ID == f.Conversation.ID || other.StartNewChat.Contact.ID == f.Contact.ID {
		t.Errorf("companies share a conversation: %+v", other.StartNewChat)
	}
	for name, in := range map[string]map[string]any{
		"national number": {"phone": "0717936775"},
		"letters":         {"phone": "+94abc"},
		"empty":           {"phone": ""},
		"params, no tpl":  {"phone": "+94717936775", "params": []string{"x"}},
		"wrong params":    {"phone": "+94717936775", "templateId": "1"},
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, app, a.token, q, map[string]any{"in": in}, "BAD_USER_INPUT") })
	}
}

// Sending a text: the contact, then one transaction with the conversation's upsert
// and one statement for message, outbox row, workers' wake-up and events.
func TestSendMessage_StatementsPerTextMessage(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	ctx := auth.WithPrincipal(t.Context(), &auth.Principal{UserID: a.agent.ID, CompanyID: a.company.ID, Role: db.RoleOwner})
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	text := "hello"
	msg, _, err := app.Resolver.SendMessage(ctx, resolvers.SendInput{To: conv.UserID, Text: &text})
	if err != nil {
		t.Fatal(err)
	}
	// contact, BEGIN, conversation, message+delivery+events, COMMIT
	if n := counter.n.Load(); n > 5 {
		t.Errorf("%d statements, want at most 5", n)
	}
	if msg.CreatedAt.IsZero() || countRows(t, app, "deliveries") != 1 {
		t.Errorf("message %+v not stored with its delivery job", msg)
	}
}
