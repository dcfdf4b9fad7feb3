package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

const messageAddedSub = `subscription($c: ID) { messageAdded(conversationId: $c) { id content direction conversation { id } sender { id } } }`

type tenantT struct {
	company *db.Company
	agent   *db.User
	token   string
}

func tenantOf(t *testing.T, app *testkit.App) tenantT {
	c := testkit.Company(t, app.DB)
	a := testkit.Agent(t, app.DB, c.ID)
	return tenantT{c, a, app.Token(a)}
}

func sendText(t *testing.T, app *testkit.App, token string, to int64, text string) string {
	t.Helper()
	res := app.GraphQL(token, `mutation($in: SendMessageInput!) { sendMessage(input: $in) { message { id } } }`,
		map[string]any{"in": map[string]any{"to": fmt.Sprint(to), "text": text}})
	if len(res.Errors) > 0 {
		t.Fatalf("send: %+v", res.Errors)
	}
	var out struct {
		SendMessage struct{ Message struct{ ID string } }
	}
	_ = json.Unmarshal(res.Data, &out)
	return out.SendMessage.Message.ID
}

func TestSubscriptions_EventOnOneInstanceReachesTheOtherAndOnlyItsCompany(t *testing.T) {
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			app1 := testkit.NewApp(t)
			app2 := testkit.NewAppOn(t, app1.DB)
			a, b := tenantOf(t, app1), tenantOf(t, app1)
			conv := testkit.Conversation(t, app1.DB, a.company.ID, app1.Clock.Now().Add(-time.Hour))

			subA, err := dialWS(t, app1, proto, a.token)
			if err != nil {
				t.Fatal(err)
			}
			subA.subscribe("1", messageAddedSub, nil)
			subB, err := dialWS(t, app1, proto, b.token)
			if err != nil {
				t.Fatal(err)
			}
			subB.subscribe("1", messageAddedSub, nil)
			eventually(t, 10*time.Second, "both subscriptions register", func() bool { return app1.Bus.Subscribers() == 2 })

			id := sendText(t, app2, a.token, conv.UserID, "hello from instance 2")
			got, err := subA.next(10 * time.Second)
			if err != nil {
				t.Fatalf("subscriber A: %v", err)
			}
			if !strings.Contains(string(got.Data), id) || !strings.Contains(string(got.Data), "hello from instance 2") {
				t.Errorf("A got %s %+v", got.Data, got.Errors)
			}
			// B (another company, same instance) must get nothing.
			if r, err := subB.next(700 * time.Millisecond); err == nil {
				t.Errorf("company B received %s", r.Data)
			}
		})
	}
}

func TestSubscriptions_StatusChangesArriveInOrder(t *testing.T) {
	// The provider answers the send with a known id, so its callbacks can follow.
	app := testkit.NewAppWith(t, testkit.With{Provider: testkit.ProviderFunc(
		func(context.Context, *twilio.Message) (*twilio.Result, error) {
			return &twilio.Result{SID: "SMorder1", Status: "queued"}, nil
		})})
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	cl.subscribe("s", `subscription($c: ID) { messageStatusChanged(conversationId: $c) { id status } }`, map[string]any{"c": fmt.Sprint(conv.ID)})
	eventually(t, 10*time.Second, "the subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
	sendText(t, app, a.token, conv.UserID, "in order")
	for i, w := range []string{"QUEUED", "SENT", "DELIVERED", "READ"} {
		r, err := cl.next(10 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %s: %v", w, err)
		}
		if !strings.Contains(string(r.Data), `"status":"`+w+`"`) {
			t.Fatalf("got %s, want %s", r.Data, w)
		}
		if i == 0 {
			// The send is recorded: the provider's callbacks come now.
			for _, st := range []string{"sent", "delivered", "read"} {
				if err := app.Resolver.ReceiveStatus(context.Background(), "", "SMorder1", st, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestSubscriptions_BadTokenCloses4403(t *testing.T) {
	app := testkit.NewApp(t)
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		for name, tok := range map[string]string{"missing": "", "forged": "abc.def.ghi"} {
			t.Run(proto+"/"+name, func(t *testing.T) {
				_, err := dialWS(t, app, proto, tok)
				if closeStatus(err) != 4403 {
					t.Errorf("close = %v (%v), want 4403", closeStatus(err), err)
				}
			})
		}
	}
}

func TestSubscriptions_ForeignConversationIsForbidden(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := tenantOf(t, app), tenantOf(t, app)
	theirs := testkit.Conversation(t, app.DB, b.company.ID, app.Clock.Now())
	cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	cl.subscribe("x", messageAddedSub, map[string]any{"c": fmt.Sprint(theirs.ID)})
	r, err := cl.next(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("got %+v", r)
	}
	// Garbage on the socket is a protocol error, never a crash.
	cl.send(wsMsg{Type: "no-such-type"})
	for {
		r, err := cl.next(5 * time.Second)
		if err != nil {
			// gqlgen ends the connection; an internal error would be a crash.
			if code := closeStatus(err); code == 1011 {
				t.Errorf("closed with %v", code)
			}
			break
		}
		if r.Type != "complete" {
			t.Fatalf("unknown message type accepted: %+v", r)
		}
	}
	if r := app.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Error("server unhealthy after bad frames")
	}
}

func TestSubscriptions_SocketEndsWhenTheTokenExpires(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	// The app's clock stands still; put it at the real now so the token is valid
	// when checked and its expiry is two real seconds away.
	app.Clock.Set(time.Now())
	short, _, err := auth.NewTokens(testkit.Secret, 2*time.Second, app.Clock.Now).Issue(a.agent.ID, a.company.ID, "AGENT")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := dialWS(t, app, "graphql-transport-ws", short)
	if err != nil {
		t.Fatal(err)
	}
	cl.subscribe("1", messageAddedSub, nil)
	for {
		r, err := cl.next(10 * time.Second)
		if err != nil {
			if code := closeStatus(err); code != 4401 {
				t.Errorf("closed with %v (%v), want 4401 at expiry (refresh and reconnect)", code, err)
			}
			return
		}
		if r.Type != "complete" {
			t.Fatalf("unexpected %+v", r)
		}
	}
}

func TestSubscriptions_ShutdownClosesSocketsCleanly(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	cl, err := dialWS(t, app, "graphql-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	cl.subscribe("1", messageAddedSub, nil)
	eventually(t, 10*time.Second, "the subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
	// In the background: the shutdown waits for the client's answer to its close frame.
	go app.Shutdown()
	for {
		r, err := cl.next(10 * time.Second)
		if err != nil {
			if code := closeStatus(err); code != 1000 {
				t.Errorf("closed with %v (%v), want a normal close on shutdown", code, err)
			}
			return
		}
		if r.Type != "complete" {
			t.Fatalf("unexpected %+v", r)
		}
	}
}

func TestSubscriptions_BulkReadDoesNotDropSubscribers(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	for i := 0; i < 120; i++ {
		testkit.Message(t, app.DB, conv, db.DirectionReceived, fmt.Sprint("backlog ", i), app.Clock.Now().Add(-time.Duration(120-i)*time.Second))
	}
	added, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	added.subscribe("a", messageAddedSub, nil)
	status, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	status.subscribe("s", `subscription { messageStatusChanged { id status } }`, nil)
	eventually(t, 10*time.Second, "both subscriptions register", func() bool { return app.Bus.Subscribers() == 2 })
	res := app.GraphQL(a.token, `mutation($c: ID!) { markConversationRead(conversationId: $c) { markedCount } }`, map[string]any{"c": fmt.Sprint(conv.ID)})
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"markedCount":120`) {
		t.Fatalf("mark read: %s %+v", res.Data, res.Errors)
	}
	// Both sockets still work afterwards.
	id := sendText(t, app, a.token, conv.UserID, "still listening?")
	r, err := added.next(10 * time.Second)
	if err != nil || !strings.Contains(string(r.Data), id) {
		t.Fatalf("messageAdded subscriber after the bulk read: %+v %v", r, err)
	}
	// The development provider answers the send "sent": the status subscriber hears it.
	r, err = status.next(10 * time.Second)
	if err != nil || !strings.Contains(string(r.Data), id) || !strings.Contains(string(r.Data), `"SENT"`) {
		t.Fatalf("status subscriber after the bulk read: %+v %v", r, err)
	}
}

type countQueries struct{ n atomic.Int64 }

func (q *countQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (q *countQueries) AfterQuery(context.Context, *bun.QueryEvent) { q.n.Add(1) }

// The inbox's conversationUpdated asks contact, lastMessage and unreadCount of every
// update: they are loaded once per event and instance, not once per subscriber, and
// every subscriber sees the same, correct values.
func TestSubscriptions_ConversationUpdatedCostsTheSameForOneOrTenSubscribers(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, app.Clock.Now().Add(-time.Hour))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "unread one", app.Clock.Now().Add(-time.Hour))
	const sub = `subscription { conversationUpdated { id unreadCount contact { id phone } lastMessage { id content } } }`
	counter := &countQueries{}
	db.AddStatementHook(app.DB, counter)

	queriesFor := func(n int, text string) int64 {
		already := app.Bus.Subscribers()
		subs := make([]*wsClient, n)
		for i := range subs {
			cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
			if err != nil {
				t.Fatal(err)
			}
			cl.subscribe("1", sub, nil)
			subs[i] = cl
		}
		eventually(t, 10*time.Second, "the subscriptions register", func() bool { return app.Bus.Subscribers() == already+n })
		counter.n.Store(0)
		sendText(t, app, a.token, conv.UserID, text)
		for i, cl := range subs {
			got, err := cl.next(10 * time.Second)
			if err != nil {
				t.Fatalf("subscriber %d of %d: %v", i, n, err)
			}
			var out struct {
				ConversationUpdated struct {
					ID          string
					UnreadCount int
					Contact     struct{ ID string }
					LastMessage struct{ Content string }
				}
			}
			if err := json.Unmarshal(got.Data, &out); err != nil || len(got.Errors) > 0 {
				t.Fatalf("subscriber %d: %s %+v", i, got.Data, got.Errors)
			}
			u := out.ConversationUpdated
			if u.ID != fmt.Sprint(conv.ID) || u.UnreadCount != 1 || u.Contact.ID != fmt.Sprint(conv.UserID) ||
				u.LastMessage.Content != text {
				t.Errorf("subscriber %d got %+v", i, u)
			}
		}
		return counter.n.Load()
	}
	one, ten := queriesFor(1, "to one"), queriesFor(10, "to ten")
	if ten != one {
		t.Errorf("queries for one event: %d with 1 subscriber, %d with 10; want the same", one, ten)
	}
}
