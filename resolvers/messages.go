package resolvers

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// MessageOptions says what a message list brings along.
type MessageOptions struct {
	// Total counts the conversation's messages (offset pages always carry it).
	Total    bool
	Prefetch MessagePrefetch
	// WithoutNotes leaves the agents' private notes out of the page and its count
	// (the legacy surface, whose clients would show them as sent to the customer).
	WithoutNotes bool
	// Columns, when not nil, narrows a cursor page's messages to those columns
	// (db.MessageWindow): the caller promises that nothing reads other fields.
	Columns []string
}

// ListMessages returns a page of a conversation's messages, newest first. A cursor
// window pages back into older history with First/After and forward to newer
// messages with Last/Before (keyset positions keep pages exact while messages
// arrive); an offset page (REST's page/limit) always brings the attachments and the
// count in the same statement.
func (r *Resolver) ListMessages(ctx context.Context, conversationID int64, req PageRequest[db.MessageCursor], opt MessageOptions) (*Page[*db.Message], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	pl, err := req.plan(true)
	if err != nil {
		return nil, err
	}
	var pg *Page[*db.Message]
	// A page with items proves that the conversation is the company's: messages only
	// come back from the company's own conversation. An empty one still has to tell
	// "yours, nothing here" from "not yours". An offset page's count comes with its
	// items.
	proved := false
	if pl.isOffset {
		msgs, total, found, err := db.MessagePage(ctx, r.DB, p.CompanyID, conversationID, pl.offset, pl.size, opt.WithoutNotes)
		if err != nil {
			return nil, err
		}
		pg, proved = offsetPage(pl, msgs, total), found
	} else {
		// In list order (newest first) "after" a cursor is older, "before" it is newer.
		w := db.MessageWindow{Before: pl.after, After: pl.before, Limit: pl.size + 1, FromOldest: pl.fromEnd,
			WithAttachments: opt.Prefetch.Attachments, WithoutNotes: opt.WithoutNotes, Columns: opt.Columns}
		msgs, err := db.ListMessages(ctx, r.DB, p.CompanyID, conversationID, w)
		if err != nil {
			return nil, err
		}
		pg, proved = window(pl, msgs), len(msgs) > 0
	}
	if !proved {
		if _, err := r.ConversationByID(ctx, conversationID); err != nil {
			return nil, err
		}
	}
	if counted := pl.isOffset && proved; (opt.Total || pl.isOffset) && !counted {
		if pg.Total, err = db.CountMessages(ctx, r.DB, p.CompanyID, conversationID, opt.WithoutNotes); err != nil {
			return nil, err
		}
	}
	r.prefetchMessageNodes(ctx, opt.Prefetch, pg.Items)
	return pg, nil
}

// maxSearchTerm bounds search terms.
const maxSearchTerm = 200

// listSearch trims the search narrowing a list (contacts, conversations) and bounds
// it; empty keeps every row.
func listSearch(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxSearchTerm {
		return "", apperr.Invalidf("search must be shorter than or equal to %d characters", maxSearchTerm)
	}
	return s, nil
}

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

// SearchOptions says what a search brings along.
type SearchOptions struct {
	// Total counts all the term's matches (offset pages always carry it).
	Total    bool
	Prefetch MessagePrefetch
	// Contact fills each hit's Contact (the conversation's contact; zero ID when it
	// is not the company's).
	Contact bool
	// WithoutNotes leaves the agents' private notes out (the legacy search).
	WithoutNotes bool
}

// SearchMessages searches the caller's company's messages, best match first, then
// newest: a cursor window (forward only) or an offset page.
func (r *Resolver) SearchMessages(ctx context.Context, term string, req PageRequest[db.SearchCursor], opt SearchOptions) (*Page[*db.SearchHit], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	t, err := validateTerm(term)
	if err != nil {
		return nil, err
	}
	pl, err := req.plan(false)
	if err != nil {
		return nil, err
	}
	limit := pl.size
	if !pl.isOffset {
		limit++
	}
	// The page, its total, attachments and contacts come in one statement.
	hits, err := db.SearchMessages(ctx, r.DB, p.CompanyID, t, pl.after, pl.offset, limit,
		db.SearchOptions{Attachments: opt.Prefetch.Attachments, Contact: opt.Contact, WithoutNotes: opt.WithoutNotes})
	if err != nil {
		return nil, err
	}
	var pg *Page[*db.SearchHit]
	if pl.isOffset {
		pg = offsetPage(pl, hits, 0)
	} else {
		pg = window(pl, hits)
	}
	if opt.Total || pl.isOffset {
		if pg.Total, err = searchTotal(ctx, r.DB, p.CompanyID, t, hits, opt.WithoutNotes); err != nil {
			return nil, err
		}
		if pl.isOffset {
			pg.HasNext = pl.offset+len(pg.Items) < pg.Total
		}
	}
	nodes := make([]*db.Message, len(pg.Items))
	for i, h := range pg.Items {
		nodes[i] = &h.Message
	}
	r.prefetchMessageNodes(ctx, opt.Prefetch, nodes)
	return pg, nil
}

// searchTotal is the number of the term's matches: carried by the hits, or counted
// when there are none (after the last page, or no match at all).
func searchTotal(ctx context.Context, idb bun.IDB, companyID int64, term string, hits []*db.SearchHit, withoutNotes bool) (int, error) {
	if len(hits) > 0 {
		return hits[0].Total, nil
	}
	return db.CountSearch(ctx, idb, companyID, term, withoutNotes)
}
