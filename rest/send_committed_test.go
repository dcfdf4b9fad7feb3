package rest_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// failPageReads makes the next n reads of a legacy message page (the statement that
// carries total_count) fail as if their deadline had passed; n < 0 fails them all.
type failPageReads struct{ left atomic.Int64 }

func (f *failPageReads) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !strings.Contains(e.Query, "total_count") || !strings.Contains(e.Query, "messages") || f.left.Load() == 0 {
		return ctx
	}
	f.left.Add(-1)
	dead, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	cancel()
	return dead
}

func (f *failPageReads) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestSendMessage_ACommittedSendIsASuccessEvenWhenThePageCannotBeRead: POST /message
// answers with the conversation's first page, read after the send has committed.
// When that read fails, the message is stored and queued all the same: answering
// 503 "try again" would make an obedient client send it twice (hardening item 2).
func TestSendMessage_ACommittedSendIsASuccessEvenWhenThePageCannotBeRead(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failures  int64
		wantTotal int
		wantItems int
	}{
		// One failed read: the retry, with a deadline of its own, answers the page.
		{"the retry reads the page", 1, 2, 2},
		// Every read fails: the answer is the page shape with the new message alone.
		{"the message alone", -1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
			testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "hello?", w.now().Add(-time.Hour))
			before := rowCounts(t, w.app)
			hook := &failPageReads{}
			hook.left.Store(tc.failures)
			db.AddStatementHook(w.app.DB, hook)

			r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "Your order shipped"})
			if r.Status != http.StatusOK {
				t.Fatalf("a committed send answered %d: %s", r.Status, r.Body)
			}
			var p messagePage
			r.JSON(t, &p)
			if len(p.Data) != tc.wantItems || p.TotalCount != tc.wantTotal || p.Page != 1 || p.Limit != 20 {
				t.Fatalf("page: %s", r.Body)
			}
			if m := p.Data[0]; *m.Content != "Your order shipped" || m.Direction != "SENT" || m.ConversationID != conv.ID ||
				!hexID.MatchString(m.MessageID) {
				t.Errorf("data[0] = %+v", m)
			}
			after := rowCounts(t, w.app)
			// rowCounts waits for the outbox to empty: the app's delivery sends the
			// message, once.
			if after["messages"] != before["messages"]+1 || after["deliveries"] != before["deliveries"] {
				t.Errorf("rows: before %v after %v; want one message more, delivered", before, after)
			}
		})
	}
}
