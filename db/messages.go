package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// MessageCursor is a keyset position in a conversation's messages.
type MessageCursor struct {
	Datetime time.Time
	ID       uuid.UUID
}

// MessageWindow selects a slice of a conversation's messages, which are ordered
// newest first (datetime, then id, descending).
type MessageWindow struct {
	// Older than this position (paging back into history).
	Before *MessageCursor
	// Newer than this position (paging forward).
	After *MessageCursor
	Limit int
	// FromOldest takes the Limit oldest of the selection instead of the newest.
	FromOldest bool
	// WithAttachments loads each message's attachments in the same query.
	WithAttachments bool
	// WithoutNotes leaves the agents' private notes out (the legacy surface).
	WithoutNotes bool
	// Columns, when not nil, are the only columns read besides MessageKeyColumns
	// (the other fields stay zero); nil reads every column.
	Columns []string
}

// noteless is the condition that leaves notes out of a list of messages.
const noteless = "message_type <> 'NOTE'"

// ListMessages returns a slice of the conversation's messages, newest first. Only
// messages of the company are returned: rows come back only when the conversation
// is the company's (messages_conversation_company_fkey ties a message's company to
// its conversation's), so a non-empty answer also proves access to it.
func ListMessages(ctx context.Context, idb bun.IDB, companyID, conversationID int64, w MessageWindow) ([]*Message, error) {
	var rows []*messageRow
	// On the database itself the page is a prepared statement (prepared.go); in a
	// transaction, Bun's text with the values in place.
	bdb, prepared := idb.(*bun.DB)
	var p *params
	if prepared {
		p = &params{}
	}
	cols, err := someColumns(idb, (*Message)(nil), "message", "", MessageKeyColumns, w.Columns, summaryColumns(idb).messages)
	if err != nil {
		return nil, err
	}
	q := idb.NewSelect().Model(&rows).ColumnExpr(cols).
		Where("message.conversation_id = ?", p.val(conversationID)).
		Where("message.company_id = ?", p.val(companyID))
	if w.WithAttachments {
		q = q.ColumnExpr(attachmentsColumn)
	}
	if w.WithoutNotes {
		q = q.Where(noteless)
	}
	if w.Before != nil {
		q = q.Where("(message.datetime, message.id) < (?, ?)", p.val(w.Before.Datetime), p.val(w.Before.ID))
	}
	if w.After != nil {
		q = q.Where("(message.datetime, message.id) > (?, ?)", p.val(w.After.Datetime), p.val(w.After.ID))
	}
	if w.FromOldest {
		q = q.OrderExpr("message.datetime ASC, message.id ASC")
	} else {
		q = q.OrderExpr("message.datetime DESC, message.id DESC")
	}
	if prepared {
		err = queryPrepared(ctx, bdb, q.String()+" LIMIT "+string(p.arg(int64(w.Limit))), &rows, p.args...)
	} else {
		err = q.Limit(w.Limit).Scan(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	msgs, err := rowsToMessages(rows, w.WithAttachments)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	if w.FromOldest {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	return msgs, nil
}

// CountMessages counts a conversation's messages, without its notes when
// withoutNotes.
func CountMessages(ctx context.Context, idb bun.IDB, companyID, conversationID int64, withoutNotes bool) (int, error) {
	q := idb.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ?", conversationID).Where("company_id = ?", companyID)
	if withoutNotes {
		q = q.Where(noteless)
	}
	return q.Count(ctx)
}

// MessagePage returns one legacy page (offset/limit) of a conversation's messages,
// newest first, with their attachments, and the conversation's message count, in one
// statement (the count is an uncorrelated subquery, run once, index-only on
// messages_conversation_page_idx). As with ListMessages, rows come back only when the
// conversation is the company's; an empty page reports found=false and no count, and
// the caller decides whether the conversation exists. withoutNotes leaves the notes
// out of the page and its count (the count of all stays index-only; the notes'
// count is a probe of the small messages_notes_idx).
func MessagePage(ctx context.Context, idb bun.IDB, companyID, conversationID int64, offset, limit int, withoutNotes bool) (msgs []*Message, total int, found bool, err error) {
	var rows []*messageRow
	// On the database itself a prepared statement (prepared.go), as ListMessages.
	bdb, prepared := idb.(*bun.DB)
	var p *params
	if prepared {
		p = &params{}
	}
	conv, company := p.val(conversationID), p.val(companyID)
	count := `(SELECT count(*) FROM messages AS c WHERE c.conversation_id = ?0 AND c.company_id = ?1)`
	if withoutNotes {
		count += ` - (SELECT count(*) FROM messages AS c WHERE c.conversation_id = ?0 AND c.company_id = ?1
			AND c.message_type = 'NOTE')`
	}
	q := idb.NewSelect().Model(&rows).ColumnExpr(summaryColumns(idb).messages).ColumnExpr(attachmentsColumn).
		ColumnExpr(count+` AS total_count`, conv, company).
		Where("message.conversation_id = ?", conv).Where("message.company_id = ?", company)
	if withoutNotes {
		q = q.Where(noteless)
	}
	q = q.OrderExpr("message.datetime DESC, message.id DESC")
	if prepared {
		err = queryPrepared(ctx, bdb, q.String()+" LIMIT "+string(p.arg(int64(limit)))+" OFFSET "+string(p.arg(int64(offset))), &rows, p.args...)
	} else {
		err = q.Offset(offset).Limit(limit).Scan(ctx)
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("message page: %w", err)
	}
	if len(rows) == 0 {
		return []*Message{}, 0, false, nil
	}
	if msgs, err = rowsToMessages(rows, true); err != nil {
		return nil, 0, false, fmt.Errorf("message page: %w", err)
	}
	return msgs, rows[0].TotalCount, true, nil
}

// messageRow is a message with its attachments aggregated by attachmentsColumn: a
// page and its attachments cost one round trip instead of two.
type messageRow struct {
	bun.BaseModel `bun:"table:messages,alias:message"`
	Message
	AttachmentsJSON []byte `bun:"attachments_json,scanonly"`
	// TotalCount is filled by MessagePage only.
	TotalCount int `bun:"total_count,scanonly"`
}

// attachmentsColumn selects a message's attachments, in order, as a JSON array whose
// keys are Attachment's field names (NULL when it has none). It probes
// attachments_message_idx only for the messages that may have some
// (has_attachments, kept by a trigger: migration 000610).
const attachmentsColumn = `CASE WHEN message.has_attachments THEN (SELECT json_agg(json_build_object('ID', a.id, 'CompanyID', a.company_id,
	'MessageID', a.message_id, 'Order', a.ord, 'Type', a.type, 'Filename', a.filename, 'Filesize', a.filesize,
	'ContentType', a.content_type, 'StorageKey', a.storage_key, 'SourceURL', a.source_url, 'State', a.state,
	'Attempts', a.attempts, 'CreatedAt', a.created_at) ORDER BY a.ord NULLS LAST, a.id)
	FROM attachments AS a WHERE a.message_id = message.id AND a.company_id = message.company_id) END AS attachments_json`

// rowsToMessages unwraps page rows; with attachments, every message gets its list
// (empty, not nil, when it has none).
func rowsToMessages(rows []*messageRow, withAttachments bool) ([]*Message, error) {
	msgs := make([]*Message, len(rows))
	for i, r := range rows {
		m := &r.Message
		if withAttachments {
			m.Attachments = []*Attachment{}
			if len(r.AttachmentsJSON) > 0 {
				if err := json.Unmarshal(r.AttachmentsJSON, &m.Attachments); err != nil {
					return nil, fmt.Errorf("attachments of %s: %w", m.HexID(), err)
				}
			}
		}
		msgs[i] = m
	}
	return msgs, nil
}

// AttachmentsByMessageIDs returns the attachments of the messages, in message order.
func AttachmentsByMessageIDs(ctx context.Context, idb bun.IDB, companyID int64, ids []uuid.UUID) ([]*Attachment, error) {
	var atts []*Attachment
	err := idb.NewSelect().Model(&atts).
		Where("message_id IN (?)", bun.List(ids)).Where("company_id = ?", companyID).
		OrderExpr("message_id, ord NULLS LAST, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return atts, nil
}

// LastMessages returns the newest message (notes aside) of each conversation, one index probe per
// conversation (a LATERAL join, not a scan of every message).
func LastMessages(ctx context.Context, idb bun.IDB, companyID int64, conversationIDs []int64) ([]*Message, error) {
	var msgs []*Message
	err := idb.NewRaw(`SELECT m.* FROM unnest(?::bigint[]) AS c(id)
		CROSS JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = c.id AND company_id = ? AND message_type <> 'NOTE'
			ORDER BY datetime DESC, id DESC LIMIT 1) m`, pgArray(conversationIDs), companyID).Scan(ctx, &msgs)
	if err != nil {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	return msgs, nil
}

// UnreadCounts returns, per conversation, the received messages not yet READ (the
// generated column unread, served by messages_unread_idx).
func UnreadCounts(ctx context.Context, idb bun.IDB, companyID int64, conversationIDs []int64) (map[int64]int, error) {
	var rows []struct {
		ConversationID int64 `bun:"conversation_id"`
		N              int   `bun:"n"`
	}
	err := idb.NewRaw(`SELECT conversation_id, count(*) AS n FROM messages
		WHERE conversation_id IN (?) AND company_id = ? AND unread
		GROUP BY conversation_id`, bun.List(conversationIDs), companyID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("unread counts: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ConversationID] = r.N
	}
	return out, nil
}

// MessagesByIDs returns the company's messages among ids, in any order.
func MessagesByIDs(ctx context.Context, idb bun.IDB, companyID int64, ids []uuid.UUID) ([]*Message, error) {
	var msgs []*Message
	err := idb.NewSelect().Model(&msgs).Where("id IN (?)", bun.List(ids)).Where("company_id = ?", companyID).Scan(ctx)
	return msgs, err
}

// MarkConversationRead makes every unread message of the conversation READ, read
// by the agent at at, and returns the messages that changed. unread is the
// generated column (received and not READ) that messages_unread_idx is built on.
func MarkConversationRead(ctx context.Context, idb bun.IDB, companyID, conversationID, agentID int64, at time.Time) ([]StatusChange, error) {
	var out []StatusChange
	err := idb.NewUpdate().Model((*Message)(nil)).Set("status = ?", StatusRead).
		Set("read_at = ?", at).Set("read_by = ?", agentID).
		Where("conversation_id = ?", conversationID).Where("company_id = ?", companyID).
		Where("unread").
		Returning("id, company_id, conversation_id, status, direction").Scan(ctx, &out)
	return out, err
}

// pgArray formats ids as a PostgreSQL array literal.
func pgArray(ids []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, id)
	}
	b.WriteByte('}')
	return b.String()
}
