package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/uptrace/bun"
)

// The read scenarios' answers checked against SQL before they are timed.

// newestIDs returns a conversation's message ids (hex), newest first.
func (t *target) newestIDs(ctx context.Context, conv int64, n int) ([]string, error) {
	var ids []string
	err := t.bdb.NewRaw(`SELECT replace(id::text, '-', '') FROM messages WHERE conversation_id = ?
		ORDER BY datetime DESC, id DESC LIMIT ?`, conv, n).Scan(ctx, &ids)
	return ids, err
}

func (t *target) countMessages(ctx context.Context, conv int64) (int, error) {
	var n int
	err := t.bdb.NewRaw("SELECT count(*) FROM messages WHERE conversation_id = ?", conv).Scan(ctx, &n)
	return n, err
}

// sampleConversations returns, per company, a few conversations to check: the
// largest, the smallest and three at random.
func (t *target) sampleConversations(ctx context.Context) (map[int][]int64, error) {
	var rows []struct {
		CompanyID int   `bun:"company_id"`
		ID        int64 `bun:"id"`
	}
	err := t.bdb.NewRaw(`WITH sizes AS (
			SELECT company_id, conversation_id AS id, count(*) AS n,
				row_number() OVER (PARTITION BY company_id ORDER BY count(*) DESC, conversation_id) AS big,
				row_number() OVER (PARTITION BY company_id ORDER BY count(*), conversation_id) AS small,
				row_number() OVER (PARTITION BY company_id ORDER BY md5(conversation_id::text)) AS rnd
			FROM messages GROUP BY company_id, conversation_id
		)
		SELECT company_id, id FROM sizes WHERE big = 1 OR small = 1 OR rnd <= 3
		UNION
		-- where the company's newest image is, so pages with attachments are checked
		(SELECT DISTINCT ON (company_id) company_id, conversation_id FROM messages
		WHERE message_type = 'MEDIA' ORDER BY company_id, datetime DESC)`).Scan(ctx, &rows)
	out := map[int][]int64{}
	for _, r := range rows {
		out[r.CompanyID] = append(out[r.CompanyID], r.ID)
	}
	return out, err
}

type gqlPage struct {
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID          string            `json:"id"`
			Attachments []json.RawMessage `json:"attachments"`
		} `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	} `json:"pageInfo"`
}

func (p gqlPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// checkReads verifies the four read scenarios' answers against the database.
func (t *target) checkReads(ctx context.Context) error {
	w := &worker{}
	samples, err := t.sampleConversations(ctx)
	if err != nil {
		return err
	}
	for c := 1; c <= t.sizes.Companies; c++ {
		token := "Bearer " + t.tokens[c-1]
		for _, conv := range samples[c] {
			want, err := t.newestIDs(ctx, conv, 41)
			if err != nil {
				return err
			}
			// GraphQL: the first two pages, walking by cursor.
			var after any
			for page := 0; page < 2; page++ {
				raw, err := t.graphql(ctx, w, token, gqlBody(messagesQuery, map[string]any{"id": strconv.FormatInt(conv, 10), "after": after}))
				if err != nil {
					return fmt.Errorf("GraphQL messages of %d: %w", conv, err)
				}
				var out struct {
					Data struct {
						Messages gqlPage `json:"messages"`
					} `json:"data"`
				}
				if err := json.Unmarshal(raw, &out); err != nil {
					return err
				}
				got := out.Data.Messages
				lo, hi := min(page*20, len(want)), min(page*20+20, len(want))
				if !slices.Equal(got.ids(), want[lo:hi]) {
					return fmt.Errorf("GraphQL messages of %d, page %d: got %v, want %v", conv, page+1, got.ids(), want[lo:hi])
				}
				counts := make(map[string]int, len(got.Edges))
				for _, e := range got.Edges {
					counts[e.Node.ID] = len(e.Node.Attachments)
				}
				if err := t.checkAttachmentCounts(ctx, counts); err != nil {
					return fmt.Errorf("GraphQL messages of %d: %w", conv, err)
				}
				if got.PageInfo.HasNextPage != (len(want) > hi) {
					return fmt.Errorf("GraphQL messages of %d, page %d: hasNextPage %v", conv, page+1, got.PageInfo.HasNextPage)
				}
				if !got.PageInfo.HasNextPage {
					break
				}
				after = *got.PageInfo.EndCursor
			}
			// REST: page 1 and the total.
			raw, err := t.get(ctx, w, token, fmt.Sprintf("/message/message-page-list/%d?page=1&limit=20", conv))
			if err != nil {
				return fmt.Errorf("REST messages of %d: %w", conv, err)
			}
			var page struct {
				TotalCount int `json:"totalCount"`
				Data       []struct {
					MessageID      string            `json:"messageId"`
					ConversationID int64             `json:"conversationId"`
					Attachments    []json.RawMessage `json:"attachments"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &page); err != nil {
				return err
			}
			total, err := t.countMessages(ctx, conv)
			if err != nil {
				return err
			}
			var got []string
			counts := map[string]int{}
			for _, m := range page.Data {
				got = append(got, m.MessageID)
				counts[m.MessageID] = len(m.Attachments)
			}
			if err := t.checkAttachmentCounts(ctx, counts); err != nil {
				return fmt.Errorf("REST messages of %d: %w", conv, err)
			}
			if page.TotalCount != total || !slices.Equal(got, want[:min(20, len(want))]) {
				return fmt.Errorf("REST messages of %d: total %d (want %d), ids %v, want %v", conv, page.TotalCount, total, got, want[:min(20, len(want))])
			}
		}
		if err := t.checkConversations(ctx, w, c, token); err != nil {
			return err
		}
	}
	return nil
}

// checkAttachmentCounts compares how many attachments each message came with.
func (t *target) checkAttachmentCounts(ctx context.Context, got map[string]int) error {
	if len(got) == 0 {
		return nil
	}
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	var rows []struct {
		ID string `bun:"id"`
		N  int    `bun:"n"`
	}
	if err := t.bdb.NewRaw(`SELECT replace(message_id::text, '-', '') AS id, count(*) AS n FROM attachments
		WHERE message_id IN (?) GROUP BY message_id`, bun.List(ids)).Scan(ctx, &rows); err != nil {
		return err
	}
	want := map[string]int{}
	for _, r := range rows {
		want[r.ID] = r.N
	}
	for id, n := range got {
		if want[id] != n {
			return fmt.Errorf("message %s came with %d attachments, the database has %d", id, n, want[id])
		}
	}
	return nil
}

// inboxRow is one conversation of a company's inbox as the database has it.
type inboxRow struct {
	ID      int64   `bun:"id"`
	UserID  int64   `bun:"user_id"`
	Last    *string `bun:"last"` // the newest message's id (hex), if any
	Unread  int     `bun:"unread"`
	Company int64   `bun:"company_id"`
}

// inbox returns company c's 20 most recently updated conversations.
func (t *target) inbox(ctx context.Context, c int) ([]inboxRow, error) {
	var want []inboxRow
	err := t.bdb.NewRaw(`SELECT c.id, c.user_id, c.company_id,
			(SELECT replace(m.id::text, '-', '') FROM messages m WHERE m.conversation_id = c.id ORDER BY m.datetime DESC, m.id DESC LIMIT 1) AS last,
			(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.unread) AS unread
		FROM conversations c WHERE c.company_id = ?
		ORDER BY c.last_update_time DESC NULLS LAST, c.id DESC LIMIT 20`, c).Scan(ctx, &want)
	return want, err
}

func (t *target) checkConversations(ctx context.Context, w *worker, c int, token string) error {
	want, err := t.inbox(ctx, c)
	if err != nil {
		return err
	}
	raw, err := t.graphql(ctx, w, token, gqlBody(conversationsQuery, nil))
	if err != nil {
		return fmt.Errorf("GraphQL conversations of company %d: %w", c, err)
	}
	var out struct {
		Data struct {
			Conversations struct {
				Edges []struct {
					Node struct {
						ID      string `json:"id"`
						Contact struct {
							ID string `json:"id"`
						} `json:"contact"`
						LastMessage *struct {
							ID string `json:"id"`
						} `json:"lastMessage"`
						UnreadCount int `json:"unreadCount"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"conversations"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	edges := out.Data.Conversations.Edges
	if len(edges) != len(want) {
		return fmt.Errorf("GraphQL conversations of company %d: %d edges, want %d", c, len(edges), len(want))
	}
	for i, e := range edges {
		wnt := want[i]
		lastOK := (wnt.Last == nil && e.Node.LastMessage == nil) ||
			(wnt.Last != nil && e.Node.LastMessage != nil && *wnt.Last == e.Node.LastMessage.ID)
		if e.Node.ID != strconv.FormatInt(wnt.ID, 10) || e.Node.Contact.ID != strconv.FormatInt(wnt.UserID, 10) ||
			!lastOK || e.Node.UnreadCount != wnt.Unread {
			return fmt.Errorf("GraphQL conversations of company %d, #%d: got %+v, want %+v", c, i, e.Node, wnt)
		}
	}
	raw, err = t.get(ctx, w, token, "/conversation/conversation-page-list?page=1&limit=20")
	if err != nil {
		return fmt.Errorf("REST conversations of company %d: %w", c, err)
	}
	var page struct {
		TotalCount int    `json:"totalCount"`
		Page       string `json:"page"`
		Limit      string `json:"limit"`
		Data       []struct {
			ConversationID int64 `json:"conversationId"`
			UserID         int64 `json:"userId"`
			User           struct {
				UserID int64 `json:"userId"`
			} `json:"user"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return err
	}
	if page.TotalCount != len(t.convs[c-1]) || page.Page != "1" || page.Limit != "20" || len(page.Data) != len(want) {
		return fmt.Errorf("REST conversations of company %d: total %d (want %d), page %q limit %q, %d items",
			c, page.TotalCount, len(t.convs[c-1]), page.Page, page.Limit, len(page.Data))
	}
	for i, d := range page.Data {
		if d.ConversationID != want[i].ID || d.User.UserID != want[i].UserID {
			return fmt.Errorf("REST conversations of company %d, #%d: %+v, want %+v", c, i, d, want[i])
		}
	}
	return nil
}

// checkLabelFilter compares each company's first page of conversations filtered by
// benchLabel with the database's.
func (t *target) checkLabelFilter(ctx context.Context) error {
	w := &worker{}
	for c := 1; c <= t.sizes.Companies; c++ {
		var want []string
		err := t.bdb.NewRaw(`SELECT c.id::text FROM conversations c
			JOIN conversation_labels cl ON cl.conversation_id = c.id JOIN labels l ON l.id = cl.label_id
			WHERE c.company_id = ? AND lower(l.name) = lower(?)
			ORDER BY c.last_update_time DESC NULLS LAST, c.id DESC LIMIT 20`, c, benchLabel).Scan(ctx, &want)
		if err != nil {
			return err
		}
		if len(want) == 0 {
			return fmt.Errorf("company %d: no conversation carries the label %q", c, benchLabel)
		}
		raw, err := t.graphql(ctx, w, "Bearer "+t.tokens[c-1], gqlBody(labelConversationsQuery, map[string]any{"labels": []string{benchLabel}}))
		if err != nil {
			return fmt.Errorf("GraphQL conversations by label: %w", err)
		}
		var out struct {
			Data struct {
				Conversations struct {
					Edges []struct {
						Node struct {
							ID string `json:"id"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"conversations"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		got := make([]string, len(out.Data.Conversations.Edges))
		for i, e := range out.Data.Conversations.Edges {
			got[i] = e.Node.ID
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("company %d, conversations by label: got %v, want %v", c, got, want)
		}
	}
	return nil
}
