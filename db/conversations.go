package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// UpsertContact finds or creates the contact with c's phone in c's company and fills
// c with the stored row. An existing contact's names are kept.
func UpsertContact(ctx context.Context, idb bun.IDB, c *User) error {
	c.Kind = KindContact
	_, err := idb.NewInsert().Model(c).
		On("CONFLICT (company_id, phone) WHERE kind = 'CONTACT' DO UPDATE").
		Set("kind = EXCLUDED.kind").
		Returning("*").Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert contact: %w", err)
	}
	return nil
}

// UpsertConversation finds or creates the conversation of a company with a contact
// on a channel. Concurrent calls get the same row.
func UpsertConversation(ctx context.Context, idb bun.IDB, companyID, contactID int64, channelID int) (*Conversation, error) {
	conv := &Conversation{CompanyID: companyID, UserID: contactID, ChannelID: channelID}
	_, err := idb.NewInsert().Model(conv).
		On("CONFLICT (company_id, user_id, channel_id) DO UPDATE").
		Set("channel_id = EXCLUDED.channel_id").
		Returning("*").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("upsert conversation: %w", err)
	}
	return conv, nil
}

// UpsertConversationAt is UpsertConversation for a message added at t, which it
// records in the same statement: the conversation's last update moves to t (never
// back), and an inbound message also restarts the 24-hour window. One round trip
// instead of an upsert and an update; the row returned carries the new times.
func UpsertConversationAt(ctx context.Context, idb bun.IDB, companyID, contactID int64, channelID int, t time.Time, inbound bool) (*Conversation, error) {
	conv := &Conversation{CompanyID: companyID, UserID: contactID, ChannelID: channelID}
	_, err := upsertConversationAt(idb, conv, t, inbound).Returning("*").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("upsert conversation: %w", err)
	}
	return conv, nil
}

// upsertConversationAt is the statement of UpsertConversationAt for conv (company,
// contact and channel set), also used as a step of ReceiveInbound's statement. An
// inbound message also makes a PENDING, SNOOZED or RESOLVED conversation OPEN again
// (and ends its snooze) in the same statement; an agent's message changes no status.
func upsertConversationAt(idb bun.IDB, conv *Conversation, t time.Time, inbound bool) *bun.InsertQuery {
	conv.LastUpdateTime = &t
	if inbound {
		conv.LastFreeMessageTime = &t
	}
	// GREATEST ignores NULL: an outbound message leaves the window as it was.
	q := idb.NewInsert().Model(conv).
		On("CONFLICT (company_id, user_id, channel_id) DO UPDATE").
		Set("last_update_time = GREATEST(conversation.last_update_time, EXCLUDED.last_update_time)").
		Set("last_free_message_time = GREATEST(conversation.last_free_message_time, EXCLUDED.last_free_message_time)")
	if inbound {
		q = q.Set("status = ?", ConversationOpen).Set("snoozed_until = NULL")
	}
	return q
}

// ConversationFilter narrows a company's conversation list.
type ConversationFilter struct {
	UnreadOnly bool
	// WindowOpen, when set, keeps conversations whose customer service window is
	// open (true) or closed (false): open when the last free message came after
	// WindowCutoff, which the business layer derives from its clock and the rule.
	WindowOpen   *bool
	WindowCutoff time.Time
	// Search matches the contact's name, or the digits of its phone number.
	Search string
	// Statuses keeps the conversations in one of them; empty keeps every status.
	Statuses []string
	// Assigned keeps assigned (true) or unassigned (false) conversations.
	Assigned *bool
	// AssigneeIDs keeps the conversations assigned to each of them (all conditions
	// apply: two different ids keep nothing).
	AssigneeIDs []int64
	// Labels keeps conversations carrying every label named (any case).
	Labels []string
}

// none reports whether f keeps every conversation.
func (f ConversationFilter) none() bool {
	return !f.UnreadOnly && f.WindowOpen == nil && strings.TrimSpace(f.Search) == "" && len(f.Statuses) == 0 &&
		f.Assigned == nil && len(f.AssigneeIDs) == 0 && len(f.Labels) == 0
}

// ConversationCursor is a keyset position in a company's conversation list.
type ConversationCursor struct {
	LastUpdate *time.Time
	ID         int64
}

func (f ConversationFilter) apply(q *bun.SelectQuery, p *params) *bun.SelectQuery {
	if f.UnreadOnly {
		q = q.Where(`EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversation.id AND m.unread)`)
	}
	if f.WindowOpen != nil {
		if *f.WindowOpen {
			q = q.Where("conversation.last_free_message_time > ?", p.val(f.WindowCutoff))
		} else {
			q = q.Where("(conversation.last_free_message_time IS NULL OR conversation.last_free_message_time <= ?)", p.val(f.WindowCutoff))
		}
	}
	if len(f.Statuses) > 0 {
		if p == nil {
			q = q.Where("conversation.status IN (?)", bun.List(f.Statuses))
		} else {
			// One parameter per status (IN ($2) is status = $2): a generic plan keeps
			// walking conversations_assignee_status_updated_idx in order, which it
			// did not for = ANY($2::text[]).
			marks := make([]string, len(f.Statuses))
			for i, st := range f.Statuses {
				marks[i] = string(p.arg(st))
			}
			q = q.Where("conversation.status IN (" + strings.Join(marks, ", ") + ")")
		}
	}
	if f.Assigned != nil {
		if *f.Assigned {
			q = q.Where("conversation.assignee_id IS NOT NULL")
		} else {
			q = q.Where("conversation.assignee_id IS NULL")
		}
	}
	for _, id := range f.AssigneeIDs {
		q = q.Where("conversation.assignee_id = ?", p.val(id))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + escapeLike(s) + "%"
		digits := digitsOf(s)
		q = q.Where(`EXISTS (SELECT 1 FROM users u WHERE u.id = conversation.user_id AND (
			(u.first_name || ' ' || u.last_name) ILIKE ?::text OR (?::text <> '' AND u.phone LIKE ?::text)))`,
			p.val(like), p.val(digits), p.val("%"+digits+"%"))
	}
	return q
}

// ListConversations returns up to limit conversations of the company after the
// cursor, most recently updated first (never-updated last), then by id descending.
func ListConversations(ctx context.Context, idb bun.IDB, companyID int64, f ConversationFilter, after *ConversationCursor, limit int) ([]*Conversation, error) {
	var convs []*Conversation
	if err := listConversations(idb, nil, companyID, f, after).Limit(limit).Scan(ctx, &convs); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return convs, nil
}

// listConversations is ListConversations' query without its LIMIT (ListConversationSummaries
// wraps it), with its values in place or, given params, as a prepared statement's.
//
// The inbox is a keyset page on conversations_company_updated_idx. Filtered by
// labels, it walks the first label's rows in the inbox's order instead, and probes
// the others: each label row carries a copy of its conversation's columns, kept
// equal by triggers (migrations 20260301000700 and 20260301001000), and
// conversation_labels_keyset_idx holds them all, so a label's page is one
// index-only walk that reads no more than an unfiltered page, however rare the
// label. The label rows stand in for the conversations under the same alias, so
// the other filters and the keyset apply to them unchanged.
//
// A label's rows are its company's (the insert trigger refuses any other), so the
// label, looked up in the company, is the page's tenancy; a company_id condition
// beside it would only make PostgreSQL expect a tenth of the label's rows (it cannot
// know that the one implies the other) and then prefer sorting them all to walking
// the index when its pages are not all visible.
func listConversations(idb bun.IDB, p *params, companyID int64, f ConversationFilter, after *ConversationCursor) *bun.SelectQuery {
	q := idb.NewSelect().Model((*Conversation)(nil))
	labels := f.Labels
	if len(labels) > 0 {
		q = q.ModelTableExpr("(SELECT "+summaryColumns(idb).labelRows+" FROM conversation_labels AS cl) AS conversation").
			Where("conversation.label_id = (SELECT l.id FROM labels AS l WHERE l.company_id = ? AND lower(l.name) = lower(?::text))",
				p.val(companyID), p.val(labels[0]))
		labels = labels[1:]
	} else {
		q = q.Where("conversation.company_id = ?", p.val(companyID))
	}
	q = q.OrderExpr("conversation.last_update_time DESC NULLS LAST, conversation.id DESC")
	q = f.apply(q, p)
	q = labelFilter(q, p, companyID, labels)
	if after != nil {
		if after.LastUpdate != nil {
			q = q.Where(`(conversation.last_update_time < ? OR (conversation.last_update_time = ? AND conversation.id < ?)
				OR conversation.last_update_time IS NULL)`, p.val(*after.LastUpdate), p.val(*after.LastUpdate), p.val(after.ID))
		} else {
			q = q.Where("conversation.last_update_time IS NULL AND conversation.id < ?", p.val(after.ID))
		}
	}
	return q
}

// companyCount is the number of a company's conversations (the company's id its
// one argument), from the counter migration 20260301000900 keeps.
const companyCount = "(SELECT coalesce(sum(cc.n), 0) FROM company_conversation_counts AS cc WHERE cc.company_id = ?)"

func companyConversations(ctx context.Context, idb bun.IDB, companyID int64) (int, error) {
	var n int
	err := idb.NewRaw("SELECT "+companyCount, companyID).Scan(ctx, &n)
	return n, err
}

// CountConversations counts the company's conversations matching f (without a
// filter, from the company's counter).
func CountConversations(ctx context.Context, idb bun.IDB, companyID int64, f ConversationFilter) (int, error) {
	if f.none() {
		return companyConversations(ctx, idb, companyID)
	}
	q := idb.NewSelect().Model((*Conversation)(nil)).Where("conversation.company_id = ?", companyID)
	q = labelFilter(q, nil, companyID, f.Labels)
	return f.apply(q, nil).Count(ctx)
}

// ConversationPage returns one page of the company's conversations with their
// contacts (the legacy page/limit list), and the total count. Page and count are one
// statement (the count is an uncorrelated subquery PostgreSQL runs once); only a page
// past the end, which has no row to carry the count, costs a second one.
func ConversationPage(ctx context.Context, idb bun.IDB, companyID int64, offset, limit int) ([]*Conversation, int, error) {
	var rows []*conversationPageRow
	// On the database itself a prepared statement (prepared.go).
	bdb, prepared := idb.(*bun.DB)
	var p *params
	if prepared {
		p = &params{}
	}
	company := p.val(companyID)
	q := idb.NewSelect().Model(&rows).ColumnExpr(summaryColumns(idb).conversations).Relation("User").
		ColumnExpr(companyCount+" AS total_count", company).
		Where("conversation.company_id = ?", company).
		OrderExpr("conversation.last_update_time DESC NULLS LAST, conversation.id DESC")
	var err error
	if prepared {
		err = queryPrepared(ctx, bdb, q.String()+" LIMIT "+strconv.Itoa(limit)+" OFFSET "+string(p.arg(int64(offset))), &rows, p.args...)
	} else {
		err = q.Offset(offset).Limit(limit).Scan(ctx)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("conversation page: %w", err)
	}
	if len(rows) == 0 {
		n, err := companyConversations(ctx, idb, companyID)
		return []*Conversation{}, n, err
	}
	convs := make([]*Conversation, len(rows))
	for i, r := range rows {
		convs[i] = &r.Conversation
	}
	return convs, rows[0].TotalCount, nil
}

// conversationPageRow is a conversation of a legacy page with the page's total.
type conversationPageRow struct {
	bun.BaseModel `bun:"table:conversations,alias:conversation"`
	Conversation
	TotalCount int `bun:"total_count,scanonly"`
}

// ConversationByID returns a conversation of the company, or ErrNotFound (also when
// it belongs to another company: callers must not reveal which).
func ConversationByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*Conversation, error) {
	c := new(Conversation)
	err := idb.NewSelect().Model(c).Where("id = ?", id).Where("company_id = ?", companyID).Scan(ctx)
	return c, notFound(err)
}

// ConversationIDOf returns the id of the company's conversation with a contact on a
// channel, or ErrNotFound when there is none yet.
func ConversationIDOf(ctx context.Context, idb bun.IDB, companyID, contactID int64, channelID int) (int64, error) {
	var id int64
	err := idb.NewSelect().Model((*Conversation)(nil)).Column("id").
		Where("company_id = ?", companyID).Where("user_id = ?", contactID).Where("channel_id = ?", channelID).
		Scan(ctx, &id)
	return id, notFound(err)
}

// ConversationsByIDs returns the company's conversations among ids, in any order.
func ConversationsByIDs(ctx context.Context, idb bun.IDB, companyID int64, ids []int64) ([]*Conversation, error) {
	var convs []*Conversation
	err := idb.NewSelect().Model(&convs).Where("id IN (?)", bun.List(ids)).Where("company_id = ?", companyID).Scan(ctx)
	return convs, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
