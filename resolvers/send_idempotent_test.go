package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

const idemMutation = `mutation($in: SendMessageInput!) { sendMessage(input: $in) {
  message { id content clientMessageId conversation { id } }
  conversation { id } } }`

type idemOut struct {
	SendMessage struct {
		Message struct {
			ID, Content     string
			ClientMessageID *string
			Conversation    struct{ ID string }
		}
		Conversation struct{ ID string }
	}
}

func sendIdem(t *testing.T, app *testkit.App, token string, in map[string]any) idemOut {
	t.Helper()
	var out idemOut
	gql(t, app, token, idemMutation, map[string]any{"in": in}, &out)
	return out
}

func TestSendMessage_ClientMessageIDRetryReturnsTheFirstMessage(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	first := sendIdem(t, app, a.token, map[string]any{"conversationId": fmt.Sprint(conv.ID), "text": "one", "clientMessageId": "c-1"})
	m := first.SendMessage.Message
	if m.Content != "one" || m.ClientMessageID == nil || *m.ClientMessageID != "c-1" || first.SendMessage.Conversation.ID != fmt.Sprint(conv.ID) {
		t.Fatalf("first send: %+v", first)
	}
	retries := []map[string]any{
		// Other content, by conversation or by contact: the same message.
		{"conversationId": fmt.Sprint(conv.ID), "text": "two", "clientMessageId": "c-1"},
		{"to": fmt.Sprint(conv.UserID), "text": "three", "clientMessageId": "c-1"},
		// Content that would be refused now: still a retry.
		{"conversationId": fmt.Sprint(conv.ID), "templateId": "99999", "clientMessageId": "c-1"},
		{"conversationId": fmt.Sprint(conv.ID), "text": "  ", "clientMessageId": "c-1"},
	}
	for i, in := range retries {
		got := sendIdem(t, app, a.token, in).SendMessage
		if got.Message.ID != m.ID || got.Message.Content != "one" || got.Conversation.ID != fmt.Sprint(conv.ID) {
			t.Errorf("retry %d: %+v, want the first message %s", i, got, m.ID)
		}
	}
	// After the window closed, a retry still answers the first message.
	app.Clock.Set(app.Clock.Now().Add(48 * time.Hour))
	a.token = app.Token(a.agent) // issued at the new time
	if got := sendIdem(t, app, a.token, retries[0]).SendMessage.Message; got.ID != m.ID {
		t.Errorf("retry after the window closed: %+v", got)
	}
	wantCode(t, app, a.token, idemMutation, map[string]any{"in": map[string]any{
		"conversationId": fmt.Sprint(conv.ID), "text": "new", "clientMessageId": "c-2"}}, "WINDOW_CLOSED")
	if n := countRows(t, app, "messages"); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
	// The same id in another conversation is another message.
	app.Clock.Set(app.Clock.Now().Add(-48 * time.Hour))
	a.token = app.Token(a.agent)
	conv2 := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	other := sendIdem(t, app, a.token, map[string]any{"to": fmt.Sprint(conv2.UserID), "text": "one", "clientMessageId": "c-1"})
	if other.SendMessage.Message.ID == m.ID || other.SendMessage.Conversation.ID != fmt.Sprint(conv2.ID) {
		t.Errorf("same id, other conversation: %+v", other)
	}
	if n := countRows(t, app, "messages"); n != 2 {
		t.Errorf("messages = %d, want 2", n)
	}
}

func TestSendMessage_TargetAndClientMessageIDValidation(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	foreign := testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Hour))
	id, user := fmt.Sprint(conv.ID), fmt.Sprint(conv.UserID)
	cases := []struct {
		name string
		in   map[string]any
		code string
	}{
		{"both to and conversationId", map[string]any{"to": user, "conversationId": id, "text": "x"}, "BAD_USER_INPUT"},
		{"neither", map[string]any{"text": "x"}, "BAD_USER_INPUT"},
		{"conversationId not an id", map[string]any{"conversationId": "abc", "text": "x"}, "BAD_USER_INPUT"},
		{"empty clientMessageId", map[string]any{"conversationId": id, "text": "x", "clientMessageId": ""}, "BAD_USER_INPUT"},
		{"65 characters", map[string]any{"conversationId": id, "text": "x", "clientMessageId": strings.Repeat("k", 65)}, "BAD_USER_INPUT"},
		{"NUL", map[string]any{"conversationId": id, "text": "x", "clientMessageId": "a\x00"}, "BAD_USER_INPUT"},
		{"another company's conversation", map[string]any{"conversationId": fmt.Sprint(foreign.ID), "text": "x"}, "FORBIDDEN"},
		{"another company's conversation, with an id", map[string]any{"conversationId": fmt.Sprint(foreign.ID), "text": "x", "clientMessageId": "k"}, "FORBIDDEN"},
		{"another company's contact", map[string]any{"to": fmt.Sprint(foreign.UserID), "text": "x", "clientMessageId": "k"}, "FORBIDDEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, a.token, idemMutation, map[string]any{"in": tc.in}, tc.code)
		})
	}
	// B's message with an id does not answer A's retry of that id in B's conversation.
	sendIdem(t, app, b.token, map[string]any{"conversationId": fmt.Sprint(foreign.ID), "text": "b's", "clientMessageId": "k"})
	wantCode(t, app, a.token, idemMutation, map[string]any{"in": map[string]any{
		"conversationId": fmt.Sprint(foreign.ID), "text": "x", "clientMessageId": "k"}}, "FORBIDDEN")
	// 64 characters are fine.
	sendIdem(t, app, a.token, map[string]any{"conversationId": id, "text": "x", "clientMessageId": strings.Repeat("k", 64)})
	if n := countRows(t, app, "messages"); n != 2 {
		t.Errorf("messages = %d, want B's and the 64-character one", n)
	}
}

func TestSendMessage_ConcurrentRetriesStoreOneMessageAndSendOnce(t *testing.T) {
	var calls atomic.Int64
	app := testkit.NewAppWith(t, testkit.With{Provider: testkit.ProviderFunc(
		func(ctx context.Context, m *twilio.Message) (*twilio.Result, error) {
			n := calls.Add(1)
			return &twilio.Result{SID: fmt.Sprintf("SMidem%026d", n), Status: "queued"}, nil
		}), PollInterval: 20 * time.Millisecond})
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	const n = 8
	body, _ := json.Marshal(map[string]any{"query": idemMutation, "variables": map[string]any{"in": map[string]any{
		"to": fmt.Sprint(conv.UserID), "text": "once", "clientMessageId": "retry-storm"}}})
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", app.Server.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a.token)
			resp, err := app.Server.Client().Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			var res struct {
				Data   idemOut
				Errors []any
			}
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || len(res.Errors) > 0 {
				errs[i] = fmt.Errorf("answer %v %+v", err, res.Errors)
				return
			}
			ids[i] = res.Data.SendMessage.Message.ID
		}(i)
	}
	close(start)
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("send %d: %q %v (first %q)", i, ids[i], errs[i], ids[0])
		}
	}
	if got := countRows(t, app, "messages"); got != 1 {
		t.Fatalf("messages = %d, want 1", got)
	}
	// Delivery empties the outbox once it has called the provider.
	for deadline := time.Now().Add(10 * time.Second); countRows(t, app, "deliveries") > 0 || calls.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %d provider calls", calls.Load())
		}
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("provider calls = %d, want 1", c)
	}
}
