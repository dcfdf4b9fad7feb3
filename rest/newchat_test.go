package rest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

type newChatResponse struct {
	ConversationID int64 `json:"conversationId"`
	User           struct {
		UserID    int64  `json:"userId"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Phone     string `json:"phone"`
	} `json:"user"`
	Message *legacyMessage `json:"message"`
}

func TestNewChat_CreatesTheContactAndConversationOnce(t *testing.T) {
	w := newWorld(t)
	before := rowCounts(t, w.app)
	r := w.do(t, "POST", "/message/new-chat", map[string]any{"phone": "+94 71-555 1234", "firstName": " Nimal ", "lastName": "Perera"})
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var first newChatResponse
	r.JSON(t, &first)
	if first.ConversationID <= 0 || first.User.UserID <= 0 || first.User.Phone != "+94715551234" ||
		first.User.FirstName != "Nimal" || first.User.LastName != "Perera" || first.Message != nil {
		t.Errorf("answer: %s", r.Body)
	}
	if m := r.Map(t); m["message"] != nil {
		t.Errorf("message = %v, want null", m["message"])
	}
	after := rowCounts(t, w.app)
	if after["users"] != before["users"]+1 || after["conversations"] != before["conversations"]+1 || after["messages"] != before["messages"] {
		t.Errorf("rows: before %v after %v", before, after)
	}

	// Again, written differently and with other names: the same contact and
	// conversation, names kept.
	r = w.do(t, "POST", "/message/new-chat", map[string]any{"phone": "+94715551234", "firstName": "Someone"})
	var second newChatResponse
	r.JSON(t, &second)
	if r.Status != http.StatusCreated || second.ConversationID != first.ConversationID || second.User != first.User {
		t.Errorf("second call: %d %s", r.Status, r.Body)
	}
	nothingStored(t, w.app, after)

	// The conversation is the company's: its page is readable.
	var p messagePage
	w.do(t, "GET", "/message/message-page-list/"+itoa(first.ConversationID), nil).JSON(t, &p)
	if p.TotalCount != 0 {
		t.Errorf("new conversation has %d messages", p.TotalCount)
	}
}

func TestNewChat_OpensWithATemplateMessage(t *testing.T) {
	w := newWorld(t)
	r := w.do(t, "POST", "/message/new-chat", map[string]any{"phone": "+14155550199", "templateId": 1, "params": []string{"John"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var nc newChatResponse
	r.JSON(t, &nc)
	m := nc.Message
	if m == nil || *m.Content != strings.Replace(sharedTemplate1, "{{1}}", "John", 1) || m.Type != "TEMPLATE" ||
		m.Direction != "SENT" || m.Status != "PENDING" || m.ConversationID != nc.ConversationID || m.Datetime != legacy(w.now()) {
		t.Fatalf("message: %s", r.Body)
	}
	// The message went to the outbox: it is still there, or the app's delivery
	// workers (the development provider, which answers "sent") have already sent it
	// and deleted its row.
	var queued int
	if err := w.app.DB.NewRaw(`SELECT count(*) FROM messages AS m WHERE m.conversation_id = ?
		AND (EXISTS (SELECT 1 FROM deliveries AS d WHERE d.message_id = m.id) OR m.status IN ('SENT', 'DELIVERED', 'READ'))`,
		nc.ConversationID).Scan(context.Background(), &queued); err != nil || queued != 1 {
		t.Errorf("messages in the outbox or sent = %d (%v), want 1", queued, err)
	}
}

func TestNewChat_NeverTouchesAnotherCompanysContact(t *testing.T) {
	w := newWorld(t)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, w.now())
	r := w.do(t, "POST", "/message/new-chat", map[string]any{"phone": *foreign.User.Phone, "firstName": "Mine"})
	var nc newChatResponse
	r.JSON(t, &nc)
	if r.Status != http.StatusCreated || nc.User.UserID == foreign.UserID || nc.ConversationID == foreign.ID || nc.User.FirstName != "Mine" {
		t.Errorf("A's chat with B's contact's number: %d %s", r.Status, r.Body)
	}
	var first string
	_ = w.app.DB.NewRaw("SELECT first_name FROM users WHERE id = ?", foreign.UserID).Scan(context.Background(), &first)
	if first != foreign.User.FirstName {
		t.Errorf("B's contact renamed to %q", first)
	}
}

func TestNewChat_AnotherCompanysTemplateLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	theirs := ownTemplate(t, w.app, w.b.ID, "Secret {{1}}")
	before := rowCounts(t, w.app)
	for _, id := range []int64{theirs.ID, theirs.ID + 1000} {
		r := w.do(t, "POST", "/message/new-chat", map[string]any{"phone": "+94715550000", "templateId": id, "params": []string{"x"}})
		wantBody(t, r, http.StatusForbidden, noTemplate)
	}
	nothingStored(t, w.app, before)
}

func TestNewChat_BadInputIs400(t *testing.T) {
	w := newWorld(t)
	before := rowCounts(t, w.app)
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"national number", map[string]any{"phone": "0715551234"}, "phone must be a phone number in international format"},
		{"national number with spaces", map[string]any{"phone": "071 555 1234"}, "international format"},
		{"letters", map[string]any{"phone": "+94abc"}, "international format"},
		{"too short", map[string]any{"phone": "+1"}, "international format"},
		{"missing phone", map[string]any{"firstName": "A"}, "phone should not be empty"},
		{"empty phone", map[string]any{"phone": " "}, "phone should not be empty"},
		{"phone a number", map[string]any{"phone": 94715551234}, "phone must be a string"},
		{"firstName a number", map[string]any{"phone": "+94715551234", "firstName": 1}, "firstName must be a string"},
		{"firstName too long", map[string]any{"phone": "+94715551234", "firstName": strings.Repeat("a", 201)}, "firstName must be shorter than or equal to 200 characters"},
		{"templateId not an id", map[string]any{"phone": "+94715551234", "templateId": "first"}, "templateId must be a positive integer id"},
		{"params without template", map[string]any{"phone": "+94715551234", "params": []string{"x"}}, "params need a templateId"},
		{"params not strings", map[string]any{"phone": "+94715551234", "templateId": 1, "params": "x"}, "params must be an array of strings"},
		{"wrong param count", map[string]any{"phone": "+94715551234", "templateId": 2, "params": []string{"x"}}, "params must have exactly 4 items"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "POST", "/message/new-chat", c.body), http.StatusBadRequest, c.want)
		})
	}
	nothingStored(t, w.app, before)
}
