package resolvers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/graph/model"
)

// maxReadEvents is how many per-message READ events markConversationRead publishes.
const maxReadEvents = 50

// windowLength is WhatsApp's customer service window.
const windowLength = 24 * time.Hour

// ErrNoConversationAccess is the one answer for a conversation of another company or
// of none: the caller must not learn which.
var ErrNoConversationAccess = apperr.New(apperr.Forbidden, "you don't have access to this conversation")

// ConversationByID returns a conversation of the caller's company.
func (r *Resolver) ConversationByID(ctx context.Context, id int64) (*db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := db.ConversationByID(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoConversationAccess
	}
	return c, err
}

// ConversationFilter narrows ListConversations.
type ConversationFilter struct {
	UnreadOnly bool
	WindowOpen *bool
	Search     string
}

// ListConversations returns a page of the caller's conversations (Relay connection).
func (r *Resolver) ListConversations(ctx context.Context, f ConversationFilter, first *int, after *string) (*model.ConversationConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	n, _, err := pageSize(first, nil)
	if err != nil {
		return nil, err
	}
	cur, err := decodeConversationCursor(after)
	if err != nil {
		return nil, err
	}
	if len(f.Search) > 200 {
		return nil, apperr.Invalidf("search must be shorter than or equal to 200 characters")
	}
	df := db.ConversationFilter{UnreadOnly: f.UnreadOnly, WindowOpen: f.WindowOpen, WindowCutoff: windowCutoff(r.now()), Search: f.Search}
	// The page and the parts of its summaries the client asks for (contact, newest
	// message, unread count) in one statement; the loaders are primed with them.
	parts, last := conversationParts(ctx)
	convs, sums, err := db.ListConversationSummaries(ctx, r.DB, p.CompanyID, df, cur, n+1, parts)
	if err != nil {
		return nil, err
	}
	hasNext := len(convs) > n
	if hasNext {
		convs, sums = convs[:n], sums[:n]
	}
	r.primeConversations(ctx, convs, sums, parts, last)
	conn := &model.ConversationConnection{}
	conn.Edges, conn.PageInfo = edges(convs, conversationCursor, func(c string, n *db.Conversation) *model.ConversationEdge {
		return &model.ConversationEdge{Cursor: c, Node: n}
	}, hasNext, cur != nil)
	if wantsTotal(ctx) {
		if conn.TotalCount, err = db.CountConversations(ctx, r.DB, p.CompanyID, df); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// ConversationPage is the legacy page of conversations with their contacts.
func (r *Resolver) ConversationPage(ctx context.Context, page, limit int) ([]*db.Conversation, int, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, 0, err
	}
	offset, err := ValidatePage(page, limit)
	if err != nil {
		return nil, 0, err
	}
	return db.ConversationPage(ctx, r.DB, p.CompanyID, offset, limit)
}

// Window is the state of a conversation's 24-hour window at a moment.
type Window struct {
	LastFreeMessageTime *time.Time
	Now                 time.Time
	ExpiresAt           *time.Time
	Remaining           time.Duration
}

// IsOpen reports whether free-form messages may be sent.
func (w Window) IsOpen() bool { return w.Remaining > 0 }

// windowCutoff is the rule of the window: at now, a conversation's window is open
// when its last free message came after the cutoff. Lists filter on it in SQL.
func windowCutoff(now time.Time) time.Time { return now.Add(-windowLength) }

// windowOf computes the window at now (windowCutoff), and when it closes.
func windowOf(last *time.Time, now time.Time) Window {
	w := Window{LastFreeMessageTime: last, Now: now}
	if last != nil {
		exp := last.Add(windowLength)
		w.ExpiresAt = &exp
		if last.After(windowCutoff(now)) {
			w.Remaining = exp.Sub(now)
		}
	}
	return w
}

// ChatWindow returns the state of a conversation's window now.
func (r *Resolver) ChatWindow(ctx context.Context, conversationID int64) (Window, error) {
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return Window{}, err
	}
	return windowOf(c.LastFreeMessageTime, r.now()), nil
}

func chatWindowModel(w Window) *model.ChatWindow {
	return &model.ChatWindow{
		IsOpen:              w.IsOpen(),
		LastFreeMessageTime: w.LastFreeMessageTime,
		ExpiresAt:           w.ExpiresAt,
		RemainingSeconds:    int(w.Remaining / time.Second),
	}
}

// MarkConversationRead makes the conversation's received messages READ.
func (r *Resolver) MarkConversationRead(ctx context.Context, conversationID int64) (*db.Conversation, int, error) {
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return nil, 0, err
	}
	tx, err := r.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback() //nolint:errcheck
	changed, err := db.MarkConversationRead(ctx, tx, c.CompanyID, c.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("mark read: %w", err)
	}
	if len(changed) > 0 {
		evs := make([]events.Event, 0, len(changed)+1)
		// Marking a long backlog read would flood subscribers with one event per
		// message; past a handful, the conversation event alone says "refetch".
		for _, ch := range changed {
			if len(changed) <= maxReadEvents {
				evs = append(evs, statusEvent(&ch))
			}
		}
		if err := publish(ctx, tx, append(evs, conversationEvent(c))...); err != nil {
			return nil, 0, err
		}
	}
	return c, len(changed), tx.Commit()
}

func trimmed(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}
