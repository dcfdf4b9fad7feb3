package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

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
	app := testkit.NewApp(b)
	co := testkit.Company(b, app.DB)
	agent := testkit.Agent(b, app.DB, co.ID)
	now := time.Now()
	conv := testkit.Conversation(b, app.DB, co.ID, now)
	for i := range 40 {
		testkit.Message(b, app.DB, conv, db.DirectionReceived, fmt.Sprint("hello ", i), now.Add(-time.Duration(i)*time.Minute))
	}
	benchGraphQL(b, app, app.Token(agent), benchMessagesQuery, map[string]any{"id": fmt.Sprint(conv.ID)}, `"endCursor"`)
}

func BenchmarkGraphQL_ConversationList(b *testing.B) {
	app := testkit.NewApp(b)
	co := testkit.Company(b, app.DB)
	agent := testkit.Agent(b, app.DB, co.ID)
	now := time.Now()
	for i := range 25 {
		conv := testkit.Conversation(b, app.DB, co.ID, now.Add(-time.Duration(i)*time.Minute))
		testkit.Message(b, app.DB, conv, db.DirectionReceived, "hi", now.Add(-time.Duration(i)*time.Minute))
	}
	benchGraphQL(b, app, app.Token(agent), benchInboxQuery, nil, `"unreadCount":1`)
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
