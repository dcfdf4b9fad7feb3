package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The GraphQL pages the SPA asks most, through the real router and a real
// PostgreSQL, so that allocs/op shows what gqlgen's execution costs per page (the
// database's share is in make bench's CPU table). Run:
//
//	go test -run '^$' -bench GraphQL -benchmem ./server/

const benchMessagesQuery = `query Page($id: ID!) { messages(conversationId: $id, first: 20) {
  edges { cursor node { id direction type content datetime status errorCode attachments { id type filename } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

const benchInboxQuery = `query Inbox { conversations(first: 20) { edges { cursor node { id lastUpdateTime lastFreeMessageTime
  contact { id firstName lastName phone } lastMessage { id direction content datetime status } unreadCount } }
  pageInfo { hasNextPage endCursor } } }`

func BenchmarkGraphQL_MessagesPage(b *testing.B) {
	app, _, agent, conv := messagesPageFixture(b)
	benchGraphQL(b, app, app.Token(agent), benchMessagesQuery, map[string]any{"id": fmt.Sprint(conv.ID)}, `"endCursor"`)
}

// messagesPageFixture is an app with one agent and a conversation of 40 messages.
func messagesPageFixture(b *testing.B) (*testkit.App, *db.Company, *db.User, *db.Conversation) {
	app := testkit.NewApp(b)
	co := testkit.Company(b, app.DB)
	agent := testkit.Agent(b, app.DB, co.ID)
	now := time.Now()
	conv := testkit.Conversation(b, app.DB, co.ID, now)
	for i := range 40 {
		testkit.Message(b, app.DB, conv, db.DirectionReceived, fmt.Sprint("hello ", i), now.Add(-time.Duration(i)*time.Minute))
	}
	return app, co, agent, conv
}

const benchLabelInboxQuery = `query Inbox($labels: [String!]) { conversations(first: 20, filter: {labels: $labels}) {
  edges { cursor node { id lastUpdateTime lastFreeMessageTime
  contact { id firstName lastName phone } lastMessage { id direction content datetime status } unreadCount } }
  pageInfo { hasNextPage endCursor } } }`

func BenchmarkGraphQL_ConversationList(b *testing.B) {
	app, token := conversationListFixture(b)
	benchGraphQL(b, app, token, benchInboxQuery, nil, `"unreadCount":1`)
}

// BenchmarkGraphQL_ConversationListByLabel is the inbox filtered by a label one
// conversation in four carries, and unfiltered, alternating request by request in
// one run so both see the same machine; it reports each one's ns/op and their
// ratio (the filtered page must cost no more than the unfiltered one).
func BenchmarkGraphQL_ConversationListByLabel(b *testing.B) {
	app, token := conversationListFixture(b)
	benchAlternating(b, app, token, "by-label",
		map[string]any{"query": benchInboxQuery},
		map[string]any{"query": benchLabelInboxQuery, "variables": map[string]any{"labels": []string{"Billing"}}})
}

// benchAlternating posts the unfiltered inbox query and a filtered one in turn, request
// by request in one run so both see the same machine, checks each answer is a full
// page of 20, and reports each one's ns/op and their ratio (filtered/unfiltered).
func benchAlternating(b *testing.B, app *testkit.App, token, name string, unfiltered, filtered map[string]any) {
	bodies := [2][]byte{}
	bodies[0], _ = json.Marshal(unfiltered)
	bodies[1], _ = json.Marshal(filtered)
	client := app.Server.Client()
	var spent [2]time.Duration
	var count [2]int
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		k := i % 2
		i++
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", bytes.NewReader(bodies[k]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) || bytes.Count(out, []byte(`"cursor"`)) != 20 {
			b.Fatalf("%d %s", resp.StatusCode, out)
		}
		spent[k] += time.Since(start)
		count[k]++
	}
	if count[0] > 0 && count[1] > 0 {
		plain := float64(spent[0]) / float64(count[0])
		f := float64(spent[1]) / float64(count[1])
		b.ReportMetric(f, "ns/op-"+name)
		b.ReportMetric(plain, "ns/op-unfiltered")
		b.ReportMetric(f/plain, name+"/unfiltered")
	}
}

// conversationListFixture is an app with an agent and 100 conversations of one
// message each; one in four carries the label billing, every one the label all.
func conversationListFixture(b *testing.B) (*testkit.App, string) {
	app := testkit.NewApp(b)
	co := testkit.Company(b, app.DB)
	agent := testkit.Agent(b, app.DB, co.ID)
	now := time.Now()
	var billing []int64
	for i := range 100 {
		conv := testkit.Conversation(b, app.DB, co.ID, now.Add(-time.Duration(i)*time.Minute))
		testkit.Message(b, app.DB, conv, db.DirectionReceived, "hi", now.Add(-time.Duration(i)*time.Minute))
		if i%4 == 0 {
			billing = append(billing, conv.ID)
		}
	}
	if _, err := app.DB.NewRaw(`WITH l AS (INSERT INTO labels (company_id, name) VALUES (?, 'billing'), (?, 'all') RETURNING id, name)
		INSERT INTO conversation_labels (conversation_id, label_id, company_id)
		SELECT c.id, l.id, c.company_id FROM conversations c, l
		WHERE c.company_id = ? AND (l.name = 'all' OR c.id IN (?))`, co.ID, co.ID, co.ID, bun.List(billing)).Exec(b.Context()); err != nil {
		b.Fatal(err)
	}
	if _, err := app.DB.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return app, app.Token(agent)
}

// benchGraphQL posts the query b.N times and checks every answer holds want and no
// errors.
func benchGraphQL(b *testing.B, app *testkit.App, token, query string, vars map[string]any, want string) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	client := app.Server.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) || !bytes.Contains(out, []byte(want)) {
			b.Fatalf("%d %s", resp.StatusCode, out)
		}
	}
}

// BenchmarkGraphQL_MessagesPageSessionCheck is the messages page through the real
// router with the session check on (a token with a session id, looked up among
// 10,000 ended sessions) and off (a token without one, which is not looked up),
// alternating request by request in one run so both see the same machine. It
// reports each one's ns/op and their ratio (the check must cost under 5 %).
func BenchmarkGraphQL_MessagesPageSessionCheck(b *testing.B) {
	app, co, agent, conv := messagesPageFixture(b)
	now := time.Now()
	tokens := app.Resolver.Tokens
	if tokens.Revoked == nil {
		b.Fatal("the app runs without a revocation set")
	}
	for i := range 10_000 {
		tokens.Revoked.Add(now, fmt.Sprint("ended-", i))
	}
	withSession, _, err := tokens.IssueSession(agent.ID, co.ID, *agent.Role, "bench-session")
	if err != nil {
		b.Fatal(err)
	}
	tokenFor := map[bool]string{true: withSession, false: app.Token(agent)}
	body, _ := json.Marshal(map[string]any{"query": benchMessagesQuery, "variables": map[string]any{"id": fmt.Sprint(conv.ID)}})
	client := app.Server.Client()
	var spent [2]time.Duration
	var count [2]int
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		on := i%2 == 0
		i++
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokenFor[on])
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"endCursor"`)) {
			b.Fatalf("%d %s", resp.StatusCode, out)
		}
		k := 0
		if on {
			k = 1
		}
		spent[k] += time.Since(start)
		count[k]++
	}
	if count[0] > 0 && count[1] > 0 {
		off := float64(spent[0]) / float64(count[0])
		onNs := float64(spent[1]) / float64(count[1])
		b.ReportMetric(onNs, "ns/op-check-on")
		b.ReportMetric(off, "ns/op-check-off")
		b.ReportMetric(onNs/off, "on/off")
	}
}
