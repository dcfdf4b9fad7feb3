package resolvers

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
)

// ListMessages returns a page of a conversation's messages (newest first) as a Relay
// connection: first/after page back into older history, last/before forward to newer
// messages. Keyset cursors keep pages exact while messages arrive.
func (r *Resolver) ListMessages(ctx context.Context, conversationID int64, first *int, after *string, last *int, before *string) (*model.MessageConnection, error) {
	n, fromEnd, err := pageSize(first, last)
	if err != nil {
		return nil, err
	}
	afterCur, err := decodeMessageCursor(after)
	if err != nil {
		return nil, err
	}
	beforeCur, err := decodeMessageCursor(before)
	if err != nil {
		return nil, err
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	// In list order (newest first) "after" a cursor is older, "before" it is newer.
	w := db.MessageWindow{Before: afterCur, After: beforeCur, Limit: n + 1, FromOldest: fromEnd,
		WithAttachments: has(ctx, selection(ctx, "edges", "node"), "attachments") != nil}
	msgs, err := db.ListMessages(ctx, r.DB, p.CompanyID, conversationID, w)
	if err != nil {
		return nil, err
	}
	// Messages only come back from the company's own conversation; an empty page
	// still has to tell "yours, nothing here" from "not yours".
	if len(msgs) == 0 {
		if _, err := r.ConversationByID(ctx, conversationID); err != nil {
			return nil, err
		}
	}
	more := len(msgs) > n
	if more {
		if fromEnd {
			msgs = msgs[1:]
		} else {
			msgs = msgs[:n]
		}
	}
	r.prefetchMessageNodes(ctx, msgs)
	hasNext, hasPrev := more, afterCur != nil
	if fromEnd {
		hasNext, hasPrev = beforeCur != nil, more
	}
	conn := &model.MessageConnection{}
	conn.Edges, conn.PageInfo = edges(msgs, messageCursor, messageEdge, hasNext, hasPrev)
	if wantsTotal(ctx) {
		if conn.TotalCount, err = db.CountMessages(ctx, r.DB, p.CompanyID, conversationID); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// MessagePage is the legacy page of a conversation's messages, newest first, with
// attachments, and the conversation's message count.
func (r *Resolver) MessagePage(ctx context.Context, conversationID int64, page, limit int) ([]*db.Message, int, error) {
	offset, err := ValidatePage(page, limit)
	if err != nil {
		return nil, 0, err
	}
	p, err := principal(ctx)
	if err != nil {
		return nil, 0, err
	}
	msgs, total, found, err := db.MessagePage(ctx, r.DB, p.CompanyID, conversationID, offset, limit)
	if err != nil || found {
		return msgs, total, err
	}
	// As in ListMessages: only an empty page needs the access check, and its count.
	if _, err := r.ConversationByID(ctx, conversationID); err != nil {
		return nil, 0, err
	}
	total, err = db.CountMessages(ctx, r.DB, p.CompanyID, conversationID)
	return msgs, total, err
}

// maxSearchTerm bounds search terms.
const maxSearchTerm = 200

func validateTerm(term string) (string, error) {
	t := strings.TrimSpace(term)
	if t == "" {
		return "", apperr.Invalidf("term should not be empty")
	}
	if utf8.RuneCountInString(t) > maxSearchTerm {
		return "", apperr.Invalidf("term must be shorter than or equal to %d characters", maxSearchTerm)
	}
	if err := checkText("term", t, 4*maxSearchTerm); err != nil {
		return "", err
	}
	return t, nil
}

// SearchMessages searches the caller's company's messages (Relay connection), best
// match first, then newest.
func (r *Resolver) SearchMessages(ctx context.Context, term string, first *int, after *string) (*model.MessageConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	t, err := validateTerm(term)
	if err != nil {
		return nil, err
	}
	n, _, err := pageSize(first, nil)
	if err != nil {
		return nil, err
	}
	cur, err := decodeSearchCursor(after)
	if err != nil {
		return nil, err
	}
	hits, err := db.SearchMessages(ctx, r.DB, p.CompanyID, t, cur, 0, n+1,
		db.SearchOptions{Attachments: has(ctx, selection(ctx, "edges", "node"), "attachments") != nil})
	if err != nil {
		return nil, err
	}
	more := len(hits) > n
	if more {
		hits = hits[:n]
	}
	conn := &model.MessageConnection{}
	conn.Edges, conn.PageInfo = edges(hits, searchCursor, func(c string, h *db.SearchHit) *model.MessageEdge {
		return messageEdge(c, &h.Message)
	}, more, cur != nil)
	nodes := make([]*db.Message, len(hits))
	for i, e := range conn.Edges {
		nodes[i] = e.Node
	}
	r.prefetchMessageNodes(ctx, nodes)
	if wantsTotal(ctx) {
		if conn.TotalCount, err = searchTotal(ctx, r.DB, p.CompanyID, t, hits); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// searchTotal is the number of the term's matches: carried by the hits, or counted
// when there are none (after the last page, or no match at all).
func searchTotal(ctx context.Context, idb bun.IDB, companyID int64, term string, hits []*db.SearchHit) (int, error) {
	if len(hits) > 0 {
		return hits[0].Total, nil
	}
	return db.CountSearch(ctx, idb, companyID, term)
}

// SearchHit is a legacy search result: a message with its contact.
type SearchHit struct {
	Message *db.Message
	Contact *db.User
}

// SearchMessagePage is the legacy page of search results with each message's contact.
func (r *Resolver) SearchMessagePage(ctx context.Context, term string, page, limit int) ([]SearchHit, int, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, 0, err
	}
	t, err := validateTerm(term)
	if err != nil {
		return nil, 0, err
	}
	offset, err := ValidatePage(page, limit)
	if err != nil {
		return nil, 0, err
	}
	// Page, total, attachments and contacts in one statement.
	hits, err := db.SearchMessages(ctx, r.DB, p.CompanyID, t, nil, offset, limit,
		db.SearchOptions{Attachments: true, Contact: true})
	if err != nil {
		return nil, 0, err
	}
	total, err := searchTotal(ctx, r.DB, p.CompanyID, t, hits)
	if err != nil {
		return nil, 0, err
	}
	out := make([]SearchHit, len(hits))
	for i, h := range hits {
		out[i] = SearchHit{Message: &h.Message}
		if h.Contact.ID != 0 {
			out[i].Contact = &h.Contact
		}
	}
	return out, total, nil
}

func messageEdge(c string, m *db.Message) *model.MessageEdge {
	return &model.MessageEdge{Cursor: c, Node: m}
}
