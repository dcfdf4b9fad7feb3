package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PostGraphile's equivalents of messagesQuery and conversationsQuery (reads.go):
// the same rows in the same order, the same fields. PostGraphile names fields after
// the tables and foreign keys (messages' key to conversations is (conversation_id,
// company_id)); unreadCount and the inbox's NULLS LAST order come from
// bench/peer/peer-plugin.js. It has no sign-in here: the company and conversation
// are arguments, where our server reads the company from the agent's token.

const peerMessagesQuery = `query Page($id: BigInt!, $after: Cursor) { allMessages(condition: {conversationId: $id},
  orderBy: [DATETIME_DESC, ID_DESC], first: 20, after: $after) {
  edges { cursor node { id direction messageType content datetime status errorCode
    attachmentsByMessageId(orderBy: [ORD_ASC, ID_ASC]) { nodes { id type filename } } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

const peerConversationsQuery = `query Inbox($company: BigInt!) { allConversations(condition: {companyId: $company},
  orderBy: [LAST_UPDATE_TIME_NULLS_LAST_DESC, ID_DESC], first: 20) {
  edges { cursor node { id lastUpdateTime lastFreeMessageTime
    userByUserId { id firstName lastName phone }
    messagesByConversationIdAndCompanyId(orderBy: [DATETIME_DESC, ID_DESC], first: 1) { nodes { id direction content datetime status } }
    unreadCount } }
  pageInfo { hasNextPage endCursor } } }`

func (p *peer) graphql(ctx context.Context, w *worker, body []byte) ([]byte, error) {
	status, raw, err := p.http.do(ctx, &w.buf, "POST", "/graphql", "application/json", body)
	return raw, gqlOK(status, raw, err)
}

// messages and conversations are the peer's load: the same choice of company and
// conversation per worker as ours (target.pick).
func (p *peer) messages(t *target) attempt {
	return func(ctx context.Context, w *worker) error {
		_, _, conv := t.pick(w)
		_, err := p.graphql(ctx, w, gqlBody(peerMessagesQuery, map[string]any{"id": strconv.FormatInt(conv, 10)}))
		return err
	}
}

func (p *peer) conversations(t *target) attempt {
	return func(ctx context.Context, w *worker) error {
		c, _, _ := t.pick(w)
		_, err := p.graphql(ctx, w, gqlBody(peerConversationsQuery, map[string]any{"company": strconv.Itoa(c)}))
		return err
	}
}

// hexID writes a UUID as our API does: 32 hex digits.
func hexID(uuid string) string { return strings.ReplaceAll(uuid, "-", "") }

// check verifies the peer's answers against the database, on the conversations
// and inboxes checkReads verifies ours on: the first two pages of messages by
// cursor (ids, order, hasNextPage, attachments) and each company's inbox (ids,
// contacts, newest messages, unread counts).
func (p *peer) check(ctx context.Context, t *target) error {
	w := &worker{}
	samples, err := t.sampleConversations(ctx)
	if err != nil {
		return err
	}
	for c := 1; c <= t.sizes.Companies; c++ {
		for _, conv := range samples[c] {
			if err := p.checkMessages(ctx, t, w, conv); err != nil {
				return err
			}
		}
		if err := p.checkInbox(ctx, t, w, c); err != nil {
			return err
		}
	}
	return nil
}

func (p *peer) checkMessages(ctx context.Context, t *target, w *worker, conv int64) error {
	want, err := t.newestIDs(ctx, conv, 41)
	if err != nil {
		return err
	}
	var after any
	for page := 0; page < 2; page++ {
		raw, err := p.graphql(ctx, w, gqlBody(peerMessagesQuery, map[string]any{"id": strconv.FormatInt(conv, 10), "after": after}))
		if err != nil {
			return fmt.Errorf("PostGraphile messages of %d: %w", conv, err)
		}
		var out struct {
			Data struct {
				AllMessages struct {
					Edges []struct {
						Cursor string `json:"cursor"`
						Node   struct {
							ID          string `json:"id"`
							Attachments struct {
								Nodes []json.RawMessage `json:"nodes"`
							} `json:"attachmentsByMessageId"`
						} `json:"node"`
					} `json:"edges"`
					PageInfo struct {
						HasNextPage bool    `json:"hasNextPage"`
						EndCursor   *string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"allMessages"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		got := out.Data.AllMessages
		ids := make([]string, len(got.Edges))
		counts := make(map[string]int, len(got.Edges))
		for i, e := range got.Edges {
			ids[i] = hexID(e.Node.ID)
			counts[ids[i]] = len(e.Node.Attachments.Nodes)
			if e.Cursor == "" {
				return fmt.Errorf("PostGraphile messages of %d: an edge without a cursor", conv)
			}
		}
		lo, hi := min(page*20, len(want)), min(page*20+20, len(want))
		if !slices.Equal(ids, want[lo:hi]) {
			return fmt.Errorf("PostGraphile messages of %d, page %d: got %v, want %v", conv, page+1, ids, want[lo:hi])
		}
		if err := t.checkAttachmentCounts(ctx, counts); err != nil {
			return fmt.Errorf("PostGraphile messages of %d: %w", conv, err)
		}
		if got.PageInfo.HasNextPage != (len(want) > hi) {
			return fmt.Errorf("PostGraphile messages of %d, page %d: hasNextPage %v", conv, page+1, got.PageInfo.HasNextPage)
		}
		if !got.PageInfo.HasNextPage {
			break
		}
		after = *got.PageInfo.EndCursor
	}
	return nil
}

func (p *peer) checkInbox(ctx context.Context, t *target, w *worker, c int) error {
	want, err := t.inbox(ctx, c)
	if err != nil {
		return err
	}
	raw, err := p.graphql(ctx, w, gqlBody(peerConversationsQuery, map[string]any{"company": strconv.Itoa(c)}))
	if err != nil {
		return fmt.Errorf("PostGraphile conversations of company %d: %w", c, err)
	}
	var out struct {
		Data struct {
			AllConversations struct {
				Edges []struct {
					Node struct {
						ID      string `json:"id"`
						Contact struct {
							ID string `json:"id"`
						} `json:"userByUserId"`
						Messages struct {
							Nodes []struct {
								ID string `json:"id"`
							} `json:"nodes"`
						} `json:"messagesByConversationIdAndCompanyId"`
						UnreadCount int `json:"unreadCount"`
					} `json:"node"`
				} `json:"edges"`
				PageInfo struct {
					HasNextPage bool `json:"hasNextPage"`
				} `json:"pageInfo"`
			} `json:"allConversations"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	edges := out.Data.AllConversations.Edges
	if len(edges) != len(want) {
		return fmt.Errorf("PostGraphile conversations of company %d: %d edges, want %d", c, len(edges), len(want))
	}
	if more := len(t.convs[c-1]) > len(want); out.Data.AllConversations.PageInfo.HasNextPage != more {
		return fmt.Errorf("PostGraphile conversations of company %d: hasNextPage %v, want %v", c, !more, more)
	}
	for i, e := range edges {
		wnt := want[i]
		var last *string
		if n := e.Node.Messages.Nodes; len(n) > 0 {
			id := hexID(n[0].ID)
			last = &id
		}
		lastOK := (wnt.Last == nil && last == nil) || (wnt.Last != nil && last != nil && *wnt.Last == *last)
		if e.Node.ID != strconv.FormatInt(wnt.ID, 10) || e.Node.Contact.ID != strconv.FormatInt(wnt.UserID, 10) ||
			!lastOK || e.Node.UnreadCount != wnt.Unread {
			return fmt.Errorf("PostGraphile conversations of company %d, #%d: got %+v, want %+v", c, i, e.Node, wnt)
		}
	}
	return nil
}
