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

// ConversationWithSummary is ConversationByID with the conversation's summary
// (contact, newest message, unread count) in the same statement.
func (r *Resolver) ConversationWithSummary(ctx context.Context, id int64) (*db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := db.ConversationWithSummary(ctx, r.DB, p.CompanyID, id)
	if err == nil && c == nil {
		return nil, ErrNoConversationAccess
	}
	return c, err
}

// ConversationFilter narrows ListConversations.
type ConversationFilter struct {
	UnreadOnly bool
	WindowOpen *bool
	// Search matches the contact's name or phone digits (trimmed here).
	Search string
	// Statuses keeps the conversations in one of them; empty keeps every status.
	Statuses []string
	// Assignee is AssigneeMe, AssigneeUnassigned, AssigneeAnyone or "" (no condition).
	Assignee string
	// AssigneeID keeps one agent's conversations (an agent of the caller's company).
	AssigneeID *int64
	// Labels keeps conversations carrying every label named (any case; an unknown
	// name keeps none).
	Labels []string
}

// The values of ConversationFilter.Assignee.
const (
	AssigneeMe         = "ME"
	AssigneeUnassigned = "UNASSIGNED"
	// AssigneeAnyone keeps the conversations assigned to some agent.
	AssigneeAnyone = "ANYONE"
)

// isZero reports whether the filter keeps every conversation.
func (f ConversationFilter) isZero() bool {
	return !f.UnreadOnly && f.WindowOpen == nil && strings.TrimSpace(f.Search) == "" &&
		len(f.Statuses) == 0 && f.Assignee == "" && f.AssigneeID == nil && len(f.Labels) == 0
}

// ConversationOptions says what a conversation list brings along.
type ConversationOptions struct {
	// Total counts the conversations the filter keeps (offset pages always carry it).
	Total    bool
	Prefetch ConversationPrefetch
}

// ListConversations returns a page of the caller's conversations, most recently
// updated first: a cursor window (forward only), or an offset page, which brings each
// conversation's contact in User (the legacy list; it takes no filter).
func (r *Resolver) ListConversations(ctx context.Context, f ConversationFilter, req PageRequest[db.ConversationCursor], opt ConversationOptions) (*Page[*db.Conversation], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	pl, err := req.plan(false)
	if err != nil {
		return nil, err
	}
	if f.Search, err = listSearch(f.Search); err != nil {
		return nil, err
	}
	if f.Labels, err = filterLabels(f.Labels); err != nil {
		return nil, err
	}
	if pl.isOffset {
		if !f.isZero() {
			return nil, apperr.Invalidf("filters apply to cursor pages only")
		}
		// Page, contacts and count in one statement.
		convs, total, err := db.ConversationPage(ctx, r.DB, p.CompanyID, pl.offset, pl.size)
		if err != nil {
			return nil, err
		}
		return offsetPage(pl, convs, total), nil
	}
	df := db.ConversationFilter{UnreadOnly: f.UnreadOnly, WindowOpen: f.WindowOpen, WindowCutoff: windowCutoff(r.now()), Search: f.Search}
	if err := r.workflowFilter(ctx, p.CompanyID, p.UserID, f, &df); err != nil {
		return nil, err
	}
	df.Labels = f.Labels
	// The page and the parts of its summaries the caller asks for (contact, newest
	// message, unread count) in one statement; the loaders are primed with them.
	pf := opt.Prefetch
	parts := db.SummaryParts{Contact: pf.Contact, LastMessage: pf.LastMessage != nil, Unread: pf.Unread,
		ContactColumns: pf.ContactColumns, MessageColumns: pf.LastMessageColumns}
	convs, sums, err := db.ListConversationSummaries(ctx, r.DB, p.CompanyID, df, pl.after, pl.size+1, parts)
	if err != nil {
		return nil, err
	}
	pg := window(pl, convs)
	r.primeConversations(ctx, pg.Items, sums[:len(pg.Items)], pf)
	if opt.Total {
		if pg.Total, err = db.CountConversations(ctx, r.DB, p.CompanyID, df); err != nil {
			return nil, err
		}
	}
	return pg, nil
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

// WindowNow is the state of a conversation's window now.
func (r *Resolver) WindowNow(c *db.Conversation) Window {
	return windowOf(c.LastFreeMessageTime, r.now())
}

// ChatWindow returns the state of a conversation's window now.
func (r *Resolver) ChatWindow(ctx context.Context, conversationID int64) (Window, error) {
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return Window{}, err
	}
	return windowOf(c.LastFreeMessageTime, r.now()), nil
}

// MarkConversationRead makes the conversation's received messages READ, read by
// the caller now (Message.readAt, readBy).
func (r *Resolver) MarkConversationRead(ctx context.Context, conversationID int64) (*db.Conversation, int, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, 0, err
	}
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return nil, 0, err
	}
	tx, err := r.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback() //nolint:errcheck
	changed, err := db.MarkConversationRead(ctx, tx, c.CompanyID, c.ID, p.UserID, r.now())
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
