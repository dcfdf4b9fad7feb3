package resolvers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// inFlight is a Bun query hook that holds every statement for a while and records
// how many ran at once at most.
type inFlight struct {
	mu        sync.Mutex
	now, most int
	hold      time.Duration
}

func (h *inFlight) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.mu.Lock()
	h.now++
	h.most = max(h.most, h.now)
	h.mu.Unlock()
	time.Sleep(h.hold)
	return ctx
}

func (h *inFlight) AfterQuery(context.Context, *bun.QueryEvent) {
	h.mu.Lock()
	h.now--
	h.mu.Unlock()
}

// A Conversation resolves its fields one after the other (cmd/gqlgen's inline
// plugin). A mutation's answer carries no summary, so its contact, newest message,
// unread count, assignee and labels come from the loaders: they must still be read
// in one batch (their statements run together), not one loader wait after another.
func TestInlineConversation_FieldsWithoutSummaryReadInOneBatch(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Minute))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "where is my order?", ago(app, time.Minute))
	if _, err := app.DB.NewRaw(`WITH l AS (INSERT INTO labels (company_id, name) VALUES (?, 'vip') RETURNING id)
		INSERT INTO conversation_labels (conversation_id, label_id, company_id) SELECT ?, l.id, ? FROM l`,
		a.company.ID, conv.ID, a.company.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	hook := &inFlight{hold: 150 * time.Millisecond}
	db.AddStatementHook(app.DB, hook)
	var out struct {
		AssignConversation struct {
			ID          string
			Contact     struct{ Phone string }
			LastMessage struct{ Content string }
			UnreadCount int
			Assignee    struct{ ID string }
			Labels      []struct{ Name string }
		}
	}
	gql(t, app, a.token, `mutation($c: ID!, $a: ID) { assignConversation(conversationId: $c, assigneeId: $a) {
	  id contact { phone } lastMessage { content } unreadCount assignee { id } labels { name } } }`,
		map[string]any{"c": fmt.Sprint(conv.ID), "a": fmt.Sprint(a.agent.ID)}, &out)
	got := out.AssignConversation
	if got.Contact.Phone != *conv.User.Phone || got.LastMessage.Content != "where is my order?" || got.UnreadCount != 1 ||
		got.Assignee.ID != fmt.Sprint(a.agent.ID) || len(got.Labels) != 1 || !strings.EqualFold(got.Labels[0].Name, "vip") {
		t.Fatalf("answer %+v", got)
	}
	hook.mu.Lock()
	most := hook.most
	hook.mu.Unlock()
	// Users (contact and assignee together), newest messages, unread counts and
	// labels: four loaders, four statements at once. One after the other, at most
	// one would be in flight.
	if most < 4 {
		t.Fatalf("at most %d statements ran at once: the conversation's loader reads waited one after another", most)
	}
}

// conversation(id) asks its summary with the conversation: one statement.
func TestConversationByID_SummaryInOneStatement(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Minute))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "hello", ago(app, time.Minute))
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	q := `query($id: ID!) { conversation(id: $id) { id contact { phone } lastMessage { content } unreadCount } }`
	var out struct {
		Conversation struct {
			Contact     struct{ Phone string }
			LastMessage struct{ Content string }
			UnreadCount int
		}
	}
	gql(t, app, a.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, &out)
	if c := out.Conversation; c.Contact.Phone != *conv.User.Phone || c.LastMessage.Content != "hello" || c.UnreadCount != 1 {
		t.Fatalf("answer %+v", c)
	}
	if n := counter.n.Load(); n != 1 {
		t.Errorf("%d statements, want 1 (the conversation with its summary)", n)
	}
	// Another company's conversation is FORBIDDEN, with or without the summary.
	wantCode(t, app, b.token, q, map[string]any{"id": fmt.Sprint(conv.ID)}, "FORBIDDEN")
	wantCode(t, app, b.token, `query($id: ID!) { conversation(id: $id) { id } }`, map[string]any{"id": fmt.Sprint(conv.ID)}, "FORBIDDEN")
}
