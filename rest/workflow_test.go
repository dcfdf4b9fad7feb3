package rest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The legacy conversation list carries the workflow's status and assigneeId (the
// agent's userId, or null); the legacy message page and search never show notes.
func TestConversationPageList_StatusAndAssigneeNotesHidden(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	plain := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-2*time.Hour))
	if _, err := w.app.DB.NewRaw("UPDATE conversations SET status = 'PENDING', assignee_id = ? WHERE id = ?",
		w.agentA.ID, conv.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := w.do(t, "GET", "/conversation/conversation-page-list?page=1&limit=10", nil)
	var p conversationPage
	r.JSON(t, &p)
	if len(p.Data) != 2 || p.Data[0].Status != "PENDING" || p.Data[0].AssigneeID == nil || *p.Data[0].AssigneeID != w.agentA.ID ||
		p.Data[1].Status != "OPEN" || p.Data[1].AssigneeID != nil || p.Data[1].ConversationID != plain.ID {
		t.Fatalf("page: %s", r.Body)
	}
	if v, ok := r.Map(t)["data"].([]any)[1].(map[string]any)["assigneeId"]; !ok || v != nil {
		t.Fatalf("assigneeId of an unassigned conversation = %v (present %v), want null", v, ok)
	}

	msg := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "legacy visible", w.now().Add(-time.Hour))
	res := w.app.GraphQL(w.tokA, `mutation($c: ID!) { addNote(conversationId: $c, text: "legacy secret note") { id } }`,
		map[string]any{"c": fmt.Sprint(conv.ID)})
	if len(res.Errors) > 0 {
		t.Fatalf("addNote: %+v", res.Errors)
	}
	var page struct {
		TotalCount int `json:"totalCount"`
		Data       []struct {
			MessageID string `json:"messageId"`
		} `json:"data"`
	}
	for _, path := range []string{fmt.Sprintf("/message/message-page-list/%d?page=1&limit=20", conv.ID),
		"/message/message-search/legacy?page=1&limit=20"} {
		r := w.do(t, "GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		r.JSON(t, &page)
		if page.TotalCount != 1 || len(page.Data) != 1 || page.Data[0].MessageID != msg.HexID() {
			t.Fatalf("%s shows the note: %s", path, r.Body)
		}
	}
	// A page past the end still counts without the note.
	w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=5&limit=20", conv.ID), nil).JSON(t, &page)
	if page.TotalCount != 1 {
		t.Fatalf("past the end: total %d, want 1", page.TotalCount)
	}
	w.do(t, "GET", "/message/message-search/secret?page=1&limit=20", nil).JSON(t, &page)
	if page.TotalCount != 0 || len(page.Data) != 0 {
		t.Fatalf("the legacy search finds the note: %+v", page)
	}
}
