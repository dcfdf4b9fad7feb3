package resolvers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// The team's workflow (CONTRACT §6): status, snooze, assignment, claim and notes.
// Every change of a conversation publishes conversationUpdated in the transaction
// that makes it.

// maxSnooze is how far ahead a conversation may be snoozed.
const maxSnooze = 90 * 24 * time.Hour

// MaxNoteLength bounds a note, as a message body.
const MaxNoteLength = MaxTextLength

// publishBatch is how many events one publish statement carries.
const publishBatch = 200

// checkStatus validates a status change: SNOOZED needs a time in the future, at
// most maxSnooze ahead; the other statuses take none.
func checkStatus(status string, snoozedUntil *time.Time, now time.Time) error {
	switch status {
	case db.ConversationOpen, db.ConversationPending, db.ConversationResolved:
		if snoozedUntil != nil {
			return apperr.Invalidf("snoozedUntil is only for status SNOOZED")
		}
	case db.ConversationSnoozed:
		switch {
		case snoozedUntil == nil:
			return apperr.Invalidf("status SNOOZED needs snoozedUntil")
		case !snoozedUntil.After(now):
			return apperr.Invalidf("snoozedUntil must be in the future")
		case snoozedUntil.Sub(now) > maxSnooze:
			return apperr.Invalidf("snoozedUntil must be at most 90 days ahead")
		}
	default:
		return apperr.Invalidf("status must be one of OPEN, PENDING, SNOOZED, RESOLVED")
	}
	return nil
}

// SetConversationStatus changes a conversation's status (and snooze time).
func (r *Resolver) SetConversationStatus(ctx context.Context, conversationID int64, status string, snoozedUntil *time.Time) (*db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(status, snoozedUntil, r.now()); err != nil {
		return nil, err
	}
	if snoozedUntil != nil {
		t := snoozedUntil.UTC().Truncate(time.Microsecond)
		snoozedUntil = &t
	}
	return r.changeConversation(ctx, func(ctx context.Context, tx bun.Tx) (*db.ConversationChange, error) {
		return db.SetConversationStatus(ctx, tx, p.CompanyID, conversationID, status, snoozedUntil)
	})
}

// AssignConversation gives a conversation to an active agent of the company, or
// unassigns it (nil). A contact or an inactive agent is BAD_USER_INPUT; a user of
// another company (or of none) FORBIDDEN.
func (r *Resolver) AssignConversation(ctx context.Context, conversationID int64, assigneeID *int64) (*db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return r.changeConversation(ctx, func(ctx context.Context, tx bun.Tx) (*db.ConversationChange, error) {
		if assigneeID != nil {
			// Locked until commit: a concurrent deactivation, which unassigns the
			// agent, comes before or after this assignment, never across it.
			u, err := db.ActiveAgentForShare(ctx, tx, p.CompanyID, *assigneeID)
			if errors.Is(err, db.ErrNotFound) {
				return nil, apperr.New(apperr.Forbidden, "you don't have access to this user")
			}
			if err != nil {
				return nil, err
			}
			if u.Kind != db.KindAgent || !u.Active {
				return nil, apperr.Invalidf("assigneeId must be an active agent of your company")
			}
		}
		return db.AssignConversation(ctx, tx, p.CompanyID, conversationID, assigneeID)
	})
}

// ClaimConversation assigns a conversation to the caller when it is unassigned or
// already theirs; another agent's is CONFLICT. Of concurrent claims exactly one wins.
func (r *Resolver) ClaimConversation(ctx context.Context, conversationID int64) (*db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return r.changeConversation(ctx, func(ctx context.Context, tx bun.Tx) (*db.ConversationChange, error) {
		ch, err := db.ClaimConversation(ctx, tx, p.CompanyID, conversationID, p.UserID)
		if err != nil || ch != nil {
			return ch, err
		}
		// Nothing claimed: not the company's, or another agent's (read only now, on
		// the losing path).
		if _, err := db.ConversationByID(ctx, tx, p.CompanyID, conversationID); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Conflict, "the conversation is assigned to another agent")
	})
}

// changeConversation runs change in a transaction and publishes conversationUpdated
// when it changed the conversation; a nil change means the company has no such
// conversation.
func (r *Resolver) changeConversation(ctx context.Context, change func(context.Context, bun.Tx) (*db.ConversationChange, error)) (*db.Conversation, error) {
	var out *db.Conversation
	err := r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ch, err := change(ctx, tx)
		if errors.Is(err, db.ErrNotFound) || err == nil && ch == nil {
			return ErrNoConversationAccess
		}
		if err != nil {
			return err
		}
		out = &ch.Conversation
		if ch.Changed {
			return publish(ctx, tx, conversationEvent(out))
		}
		return nil
	})
	if err != nil {
		if ae := apperr.As(err); ae != nil {
			return nil, ae
		}
		return nil, fmt.Errorf("change conversation: %w", err)
	}
	return out, nil
}

// AddNote stores an agent's private note in a conversation: a NOTE message, SENT,
// never sent to the provider, allowed whatever the window; it changes neither the
// window, the last update time nor the unread count. Published as messageAdded.
func (r *Resolver) AddNote(ctx context.Context, conversationID int64, text string) (*db.Message, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("text", text, 4*MaxNoteLength); err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, apperr.Invalidf("text should not be empty")
	}
	if utf8.RuneCountInString(text) > MaxNoteLength {
		return nil, apperr.Invalidf("text must be shorter than or equal to %d characters", MaxNoteLength)
	}
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	msg := &db.Message{
		ID: db.NewMessageID(), CompanyID: c.CompanyID, ConversationID: c.ID, SenderID: &p.UserID,
		Direction: db.DirectionSent, MessageType: db.TypeNote, Content: &text,
		Datetime: r.now(), Status: db.StatusSent,
	}
	notify, err := notifications(messageEvent(msg))
	if err != nil {
		return nil, err
	}
	// One statement, outside a transaction of its own: the note and its event.
	if err := db.InsertNote(ctx, r.DB, msg, notify); err != nil {
		return nil, err
	}
	return msg, nil
}

// InboxCounts counts the caller's company's inbox tabs.
func (r *Resolver) InboxCounts(ctx context.Context) (*db.InboxCounts, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return db.CountInbox(ctx, r.DB, p.CompanyID, p.UserID)
}

// FoldInboxCounts folds the counter rows InboxCounts sums (a periodic task): each
// database connection writes rows of its own, which would otherwise pile up.
func (r *Resolver) FoldInboxCounts(ctx context.Context) (int, error) {
	return db.FoldInboxCounts(ctx, r.DB)
}

// WakeSnoozed makes up to limit conversations whose snooze has ended OPEN again and
// publishes conversationUpdated for each, in one transaction: with several
// instances each conversation wakes (and is announced) once. It returns them.
func (r *Resolver) WakeSnoozed(ctx context.Context, limit int) ([]*db.Conversation, error) {
	var woken []*db.Conversation
	err := r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if woken, err = db.WakeSnoozed(ctx, tx, limit); err != nil {
			return err
		}
		return publishConversations(ctx, tx, woken)
	})
	if err != nil {
		return nil, err
	}
	return woken, nil
}

// publishConversations publishes conversationUpdated for each of convs, in
// statements of publishBatch events.
func publishConversations(ctx context.Context, tx bun.Tx, convs []*db.Conversation) error {
	for len(convs) > 0 {
		n := min(len(convs), publishBatch)
		evs := make([]events.Event, n)
		for i, c := range convs[:n] {
			evs[i] = conversationEvent(c)
		}
		if err := publish(ctx, tx, evs...); err != nil {
			return err
		}
		convs = convs[n:]
	}
	return nil
}

// workflowFilter validates f's status and assignee conditions and sets them on df.
// An assigneeId of another company (or of no user) is FORBIDDEN, a contact's
// BAD_USER_INPUT.
func (r *Resolver) workflowFilter(ctx context.Context, companyID, callerID int64, f ConversationFilter, df *db.ConversationFilter) error {
	for _, s := range f.Statuses {
		switch s {
		case db.ConversationOpen, db.ConversationPending, db.ConversationSnoozed, db.ConversationResolved:
		default:
			return apperr.Invalidf("status must be a list of OPEN, PENDING, SNOOZED, RESOLVED")
		}
	}
	df.Statuses = f.Statuses
	yes, no := true, false
	switch f.Assignee {
	case "":
	case AssigneeMe:
		df.AssigneeIDs = append(df.AssigneeIDs, callerID)
	case AssigneeUnassigned:
		df.Assigned = &no
	case AssigneeAnyone:
		df.Assigned = &yes
	default:
		return apperr.Invalidf("assignee must be one of ME, UNASSIGNED, ANYONE")
	}
	if f.AssigneeID == nil {
		return nil
	}
	u, err := db.UserByID(ctx, r.DB, companyID, *f.AssigneeID)
	if errors.Is(err, db.ErrNotFound) {
		return apperr.New(apperr.Forbidden, "you don't have access to this user")
	}
	if err != nil {
		return err
	}
	if u.Kind != db.KindAgent {
		return apperr.Invalidf("assigneeId must be an agent of your company")
	}
	// With assignee ME, another agent's id keeps nothing: both conditions apply.
	df.AssigneeIDs = append(df.AssigneeIDs, u.ID)
	return nil
}
