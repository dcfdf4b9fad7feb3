package rest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

func TestSendMessage_ClientMessageIDMakesRetriesSafe(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	var first, retry struct {
		TotalCount int
		Data       []struct {
			MessageID       string
			Content         *string
			ClientMessageID *string
		}
	}
	r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "once", "clientMessageId": "web-7f3a"})
	r.JSON(t, &first)
	if r.Status != http.StatusOK || first.TotalCount != 1 || deref(first.Data[0].ClientMessageID) != "web-7f3a" {
		t.Fatalf("first send: %d %s", r.Status, r.Body)
	}
	// The retry (other text, even) answers the same page: the first message, once.
	r = w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "twice?", "clientMessageId": "web-7f3a"})
	r.JSON(t, &retry)
	if r.Status != http.StatusOK || retry.TotalCount != 1 || retry.Data[0].MessageID != first.Data[0].MessageID ||
		deref(retry.Data[0].Content) != "once" {
		t.Errorf("retry: %d %s", r.Status, r.Body)
	}
	for _, bad := range []any{"", strings.Repeat("x", 65), 12} {
		r = w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "x", "clientMessageId": bad})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "clientMessageId") {
			t.Errorf("clientMessageId %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if n := count(t, w.app, "SELECT count(*) FROM messages"); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}
