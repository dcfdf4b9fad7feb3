package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// target is one instance under test: its server, a client for it, and the agents'
// tokens and conversations of its dataset.
type target struct {
	srv    *server
	http   *client
	bdb    *bun.DB
	sizes  Sizes
	tokens []string  // per company, index company-1
	convs  [][]int64 // conversation ids per company
	// dsnForServer is the database the server runs on.
	dsnForServer string
}

// login signs every company's agent in through the REST API.
func (t *target) login(ctx context.Context) error {
	var buf bytes.Buffer
	t.tokens = make([]string, t.sizes.Companies)
	for c := 1; c <= t.sizes.Companies; c++ {
		body, _ := json.Marshal(map[string]string{"email": agentEmail(c), "password": benchPassword})
		status, raw, err := t.http.do(ctx, &buf, "POST", "/auth/login", "application/json", body)
		if err := expect(status, http.StatusOK, raw, err); err != nil {
			return fmt.Errorf("login agent %d: %w", c, err)
		}
		var out struct {
			AccessToken string `json:"access_token"`
			User        struct {
				CompanyID int64 `json:"companyId"`
			} `json:"user"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" || out.User.CompanyID != int64(c) {
			return fmt.Errorf("login agent %d: unexpected answer %.200s", c, raw)
		}
		t.tokens[c-1] = out.AccessToken
	}
	var rows []struct {
		ID        int64 `bun:"id"`
		CompanyID int64 `bun:"company_id"`
	}
	if err := t.bdb.NewRaw("SELECT id, company_id FROM conversations ORDER BY id").Scan(ctx, &rows); err != nil {
		return err
	}
	t.convs = make([][]int64, t.sizes.Companies)
	for _, r := range rows {
		t.convs[r.CompanyID-1] = append(t.convs[r.CompanyID-1], r.ID)
	}
	return nil
}

// pick returns a worker's company (1-based), its token and a random conversation.
func (t *target) pick(w *worker) (int, string, int64) {
	c := w.id % t.sizes.Companies
	convs := t.convs[c]
	return c + 1, "Bearer " + t.tokens[c], convs[w.rng.IntN(len(convs))]
}

const messagesQuery = `query Page($id: ID!, $after: String) { messages(conversationId: $id, first: 20, after: $after) {
  edges { cursor node { id direction type content datetime status errorCode attachments { id type filename } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

const conversationsQuery = `query Inbox { conversations(first: 20) { edges { cursor node { id lastUpdateTime lastFreeMessageTime
  contact { id firstName lastName phone } lastMessage { id direction content datetime status } unreadCount } }
  pageInfo { hasNextPage endCursor } } }`

// myOpenQuery is the team inbox's "mine" tab: OPEN conversations assigned to the
// caller, a keyset page on conversations_assignee_status_updated_idx. It asks the
// fields of conversationsQuery, so that the two rows differ by the filter alone.
const myOpenQuery = `query MyOpen { conversations(first: 20, filter: {status: [OPEN], assignee: ME}) { edges { cursor node { id
  lastUpdateTime lastFreeMessageTime contact { id firstName lastName phone }
  lastMessage { id direction content datetime status } unreadCount } } pageInfo { hasNextPage endCursor } } }`

const inboxCountsQuery = `query Counts { inboxCounts { open pending snoozed resolved mine unassigned unread } }`

// benchLabel is the label of the filtered list: one conversation in four carries it.
const benchLabel = "Billing"

const labelConversationsQuery = `query Inbox($labels: [String!]) { conversations(first: 20, filter: {labels: $labels}) {
  edges { cursor node { id lastUpdateTime lastFreeMessageTime
  contact { id firstName lastName phone } lastMessage { id direction content datetime status } unreadCount } }
  pageInfo { hasNextPage endCursor } } }`

const searchQuery = `query Search($term: String!) { searchMessages(term: $term, first: 20) {
  edges { cursor node { id content datetime direction } } pageInfo { hasNextPage endCursor } } }`

// gqlBody encodes a GraphQL request.
func gqlBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

func (t *target) graphql(ctx context.Context, w *worker, token string, body []byte) ([]byte, error) {
	status, raw, err := t.http.do(ctx, &w.buf, "POST", "/graphql", "application/json", body, "Authorization", token)
	return raw, gqlOK(status, raw, err)
}

func (t *target) get(ctx context.Context, w *worker, token, path string) ([]byte, error) {
	status, raw, err := t.http.do(ctx, &w.buf, "GET", path, "", nil, "Authorization", token)
	return raw, expect(status, http.StatusOK, raw, err)
}

// healthz is the ceiling: the same server, router and middleware, no database.
func (t *target) healthz(ctx context.Context, w *worker) error {
	status, raw, err := t.http.do(ctx, &w.buf, "GET", "/healthz", "", nil)
	if err := expect(status, http.StatusOK, raw, err); err != nil {
		return err
	}
	if !strings.Contains(string(raw), `"ok"`) {
		return fmt.Errorf("healthz: %s", raw)
	}
	return nil
}

func (t *target) gqlMessages(ctx context.Context, w *worker) error {
	_, token, conv := t.pick(w)
	_, err := t.graphql(ctx, w, token, gqlBody(messagesQuery, map[string]any{"id": strconv.FormatInt(conv, 10)}))
	return err
}

func (t *target) gqlConversations(ctx context.Context, w *worker) error {
	_, token, _ := t.pick(w)
	_, err := t.graphql(ctx, w, token, gqlBody(conversationsQuery, nil))
	return err
}

func (t *target) gqlMyOpen(ctx context.Context, w *worker) error {
	_, token, _ := t.pick(w)
	_, err := t.graphql(ctx, w, token, gqlBody(myOpenQuery, nil))
	return err
}

func (t *target) gqlInboxCounts(ctx context.Context, w *worker) error {
	_, token, _ := t.pick(w)
	raw, err := t.graphql(ctx, w, token, gqlBody(inboxCountsQuery, nil))
	if err == nil && !strings.Contains(string(raw), `"unread":`) {
		err = fmt.Errorf("inboxCounts: %s", raw)
	}
	return err
}

func (t *target) gqlConversationsByLabel(ctx context.Context, w *worker) error {
	_, token, _ := t.pick(w)
	_, err := t.graphql(ctx, w, token, gqlBody(labelConversationsQuery, map[string]any{"labels": []string{benchLabel}}))
	return err
}

func (t *target) restMessages(ctx context.Context, w *worker) error {
	_, token, conv := t.pick(w)
	_, err := t.get(ctx, w, token, "/message/message-page-list/"+strconv.FormatInt(conv, 10)+"?page=1&limit=20")
	return err
}

func (t *target) restConversations(ctx context.Context, w *worker) error {
	_, token, _ := t.pick(w)
	_, err := t.get(ctx, w, token, "/conversation/conversation-page-list?page=1&limit=20")
	return err
}
