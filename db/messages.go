package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
}

// ListMessages returns a slice of the conversation's messages, newest first. Only
// messages of the company are returned: rows come back only when the conversation
// is the company's (messages_conversation_company_fkey ties a message's company to
// its conversation's), so a non-empty answer also proves access to it.
func ListMessages(ctx context.Context, idb bun.IDB, companyID, conversationID int64, w MessageWindow) ([]*Message, error) {
	var rows []*messageRow
	q := idb.NewSelect().Model(&rows).ColumnExpr("message.*").
		Where("conversation_id = ?", conversationID).
		Where("company_id = ?", companyID).
		Limit(w.Limit)
	if w.WithAttachments {
		q = q.ColumnExpr(attachmentsColumn)
	}
	if w.Before != nil {
		q = q.Where("(datetime, id) < (?, ?)", w.Before.Datetime, w.Before.ID)
	}
	if w.After != nil {
		q = q.Where("(datetime, id) > (?, ?)", w.After.Datetime, w.After.ID)
	}
	if w.FromOldest {
		q = q.OrderExpr("datetime ASC, id ASC")
	} else {
		q = q.OrderExpr("datetime DESC, id DESC")
	}
	if err := q.Scan(ctx); err != nil {
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

// CountMessages counts a conversation's messages.
func CountMessages(ctx context.Context, idb bun.IDB, companyID, conversationID int64) (int, error) {
	return idb.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ?", conversationID).Where("company_id = ?", companyID).Count(ctx)
}

// MessagePage returns one legacy page (offset/limit) of a conversation's messages,
// newest first, with their attachments, and the conversation's message count, in one
// statement (the count is an uncorrelated subquery, run once, index-only on
// messages_conversation_page_idx). As with ListMessages, rows come back only when the
// conversation is the company's; an empty page reports found=false and no count, and
// the caller decides whether the conversation exists.
func MessagePage(ctx context.Context, idb bun.IDB, companyID, conversationID int64, offset, limit int) (msgs []*Message, total int, found bool, err error) {
	var rows []*messageRow
	err = idb.NewSelect().Model(&rows).ColumnExpr("message.*").ColumnExpr(attachmentsColumn).
		ColumnExpr(`(SELECT count(*) FROM messages AS c WHERE c.conversation_id = ? AND c.company_id = ?) AS total_count`,
			conversationID, companyID).
		Where("conversation_id = ?", conversationID).Where("company_id = ?", companyID).
		OrderExpr("datetime DESC, id DESC").Offset(offset).Limit(limit).Scan(ctx)
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

// AttachTo loads the attachments of msgs in one query.
func AttachTo(ctx context.Context, idb bun.IDB, companyID int64, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(msgs))
	byID := make(map[uuid.UUID]*Message, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		byID[m.ID] = m
		m.Attachments = []*Attachment{}
	}
	atts, err := AttachmentsByMessageIDs(ctx, idb, companyID, ids)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if m := byID[*a.MessageID]; m != nil {
			m.Attachments = append(m.Attachments, a)
		}
	}
	return nil
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

// LastMessages returns the newest message of each conversation, one index probe per
// conversation (a LATERAL join, not a scan of every message).
func LastMessages(ctx context.Context, idb bun.IDB, companyID int64, conversationIDs []int64) ([]*Message, error) {
	var msgs []*Message
	err := idb.NewRaw(`SELECT m.* FROM unnest(?::bigint[]) AS c(id)
		CROSS JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = c.id AND company_id = ?
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

// MarkConversationRead makes every unread message of the conversation READ and
// returns the messages that changed. unread is the generated column (received and
// not READ) that messages_unread_idx is built on.
func MarkConversationRead(ctx context.Context, idb bun.IDB, companyID, conversationID int64) ([]StatusChange, error) {
	var out []StatusChange
	err := idb.NewUpdate().Model((*Message)(nil)).Set("status = ?", StatusRead).
		Where("conversation_id = ?", conversationID).Where("company_id = ?", companyID).
		Where("unread").
		Returning("id, company_id, conversation_id, status, direction").Scan(ctx, &out)
	return out, err
}

// SearchCursor is a keyset position in search results (best rank first, then newest).
type SearchCursor struct {
	Rank     float64
	Datetime time.Time
	ID       uuid.UUID
}

// SearchHit is a message found by SearchMessages, with its rank.
type SearchHit struct {
	Message
	Rank float64 `bun:"rank"`
	// Total is the number of all the term's matches (not only this page's).
	Total int `bun:"total,scanonly"`
	// Contact is the conversation's contact, with SearchOptions.Contact (zero ID
	// when it is not the company's).
	Contact         User   `bun:"embed:u_"`
	AttachmentsJSON []byte `bun:"attachments_json,scanonly"`
}

// SearchOptions says what SearchMessages brings along with each hit.
type SearchOptions struct {
	// Attachments fills each message's Attachments (an empty list when it has none).
	Attachments bool
	// Contact fills each hit's Contact.
	Contact bool
}

// searchQuery turns a user's term into a prefix tsquery over the "simple"
// configuration (works for any language): every word must match the start of a word.
// It returns "" when the term has no searchable word.
func searchQuery(term string) string {
	words := strings.FieldsFunc(term, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	parts := make([]string, 0, len(words))
	for _, w := range words {
		if len(parts) == 16 {
			break
		}
		parts = append(parts, strings.ToLower(w)+":*")
	}
	return strings.Join(parts, " & ")
}

// searchBase is the shared FROM/WHERE of a search over message_search (the text of
// the company's messages, kept out of the messages row so that its status updates
// stay cheap): full-text prefix matches, plus substring matches (trigram index) for
// parts of words and numbers.
func searchBase(idb bun.IDB, companyID int64, term string) *bun.SelectQuery {
	tsq := searchQuery(term)
	t := strings.TrimSpace(term)
	// ?::bigint: the company is the first column of both GIN indexes (btree_gin),
	// which index only bigint = bigint.
	q := idb.NewSelect().TableExpr("message_search AS s").Where("s.company_id = ?::bigint", companyID)
	// Trigrams need three characters: a shorter substring could only be found by
	// scanning, so short terms match word prefixes only.
	switch {
	case utf8.RuneCountInString(t) < 3 && tsq == "":
		return q.Where("false")
	case utf8.RuneCountInString(t) < 3:
		return q.Where("s.search @@ to_tsquery('simple', ?)", tsq)
	case tsq == "":
		return q.Where("s.content ILIKE ?", "%"+escapeLike(t)+"%")
	}
	return q.Where("(s.search @@ to_tsquery('simple', ?) OR s.content ILIKE ?)", tsq, "%"+escapeLike(t)+"%")
}

func rankExpr(term string) (string, []any) {
	tsq := searchQuery(term)
	return "(CASE WHEN ? <> '' THEN ts_rank(s.search, to_tsquery('simple', ?)) ELSE 0 END)::float8", []any{tsq, tsq}
}

// SearchMessages returns up to limit of the company's messages matching term after
// the cursor, best match first, then newest, with what opt asks for, in one
// statement. The matches are ranked and cut to the page on message_search alone;
// only the page's messages are read. Every hit carries the number of all matches:
// ranking has counted them already (count(*) OVER () costs nothing more), so only a
// page past the end needs CountSearch.
func SearchMessages(ctx context.Context, idb bun.IDB, companyID int64, term string, after *SearchCursor, offset, limit int, opt SearchOptions) ([]*SearchHit, error) {
	rank, args := rankExpr(term)
	inner := searchBase(idb, companyID, term).ColumnExpr("s.message_id, s.datetime").ColumnExpr(rank+" AS rank", args...).
		ColumnExpr("count(*) OVER () AS total")
	page := idb.NewSelect().TableExpr("(?) AS hit", inner).ColumnExpr("hit.*").
		OrderExpr("hit.rank DESC, hit.datetime DESC, hit.message_id DESC").Limit(limit)
	if offset > 0 {
		page = page.Offset(offset)
	}
	if after != nil {
		page = page.Where("(hit.rank < ? OR (hit.rank = ? AND (hit.datetime, hit.message_id) < (?, ?)))",
			after.Rank, after.Rank, after.Datetime, after.ID)
	}
	q := idb.NewSelect().TableExpr("(?) AS p", page).
		Join("JOIN messages AS message ON message.id = p.message_id AND message.company_id = ?", companyID).
		ColumnExpr("message.*, p.rank, p.total").
		OrderExpr("p.rank DESC, p.datetime DESC, p.message_id DESC")
	if opt.Attachments {
		q = q.ColumnExpr(attachmentsColumn)
	}
	if opt.Contact {
		q = q.ColumnExpr(summaryColumns(idb).user).
			Join("LEFT JOIN conversations AS cv ON cv.id = message.conversation_id AND cv.company_id = ?", companyID).
			Join("LEFT JOIN users AS u ON u.id = cv.user_id AND u.company_id = ?", companyID)
	}
	var hits []*SearchHit
	if err := q.Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	if opt.Attachments {
		for _, h := range hits {
			h.Message.Attachments = []*Attachment{}
			if len(h.AttachmentsJSON) > 0 {
				if err := json.Unmarshal(h.AttachmentsJSON, &h.Message.Attachments); err != nil {
					return nil, fmt.Errorf("attachments of %s: %w", h.HexID(), err)
				}
			}
		}
	}
	return hits, nil
}

// CountSearch counts the company's messages matching term.
func CountSearch(ctx context.Context, idb bun.IDB, companyID int64, term string) (int, error) {
	return searchBase(idb, companyID, term).Count(ctx)
}

// QueueMessage stores an outbound message with its delivery job and the wake-up of
// the delivery workers (as EnqueueDelivery), then links the given attachments of the
// company to it, in order; call it inside a transaction. An attachment already
// carried by another message is copied, so one upload can be sent many times.
// notices, when not nil, are evaluated by the statement that stores the message,
// with convID its conversation_id. Message, outbox row, wake-up and events are one
// statement, one round trip (plus one or two per attachment).
func QueueMessage(ctx context.Context, idb bun.IDB, m *Message, attachmentIDs []int64, notices Notices) error {
	msgQ := idb.NewInsert().Model(m).Returning("id, company_id, conversation_id, created_at")
	queuedQ := idb.NewRaw("INSERT INTO deliveries (message_id, company_id, run_at) SELECT id, company_id, now() FROM msg RETURNING message_id")
	q := idb.NewSelect().With("msg", msgQ).With("queued", queuedQ).
		TableExpr("msg CROSS JOIN queued").
		ColumnExpr("msg.created_at, pg_notify(?, '')", DeliveriesChannel)
	if notices != nil {
		cols, args, err := notices("msg.conversation_id")
		if err != nil {
			return fmt.Errorf("queue message events: %w", err)
		}
		q = q.ColumnExpr(cols, args...)
	}
	var out struct {
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := q.Scan(ctx, &out); err != nil {
		return fmt.Errorf("queue message: %w", err)
	}
	m.CreatedAt = out.CreatedAt
	for i, aid := range attachmentIDs {
		res, err := idb.NewUpdate().Model((*Attachment)(nil)).
			Set("message_id = ?", m.ID).Set("ord = ?", i).
			Where("id = ?", aid).Where("company_id = ?", m.CompanyID).Where("message_id IS NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("link attachment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		if _, err := idb.NewRaw(`INSERT INTO attachments (company_id, message_id, ord, type, filename, filesize,
				content_type, storage_key, source_url, state)
			SELECT company_id, ?, ?, type, filename, filesize, content_type, storage_key, source_url, state
			FROM attachments WHERE id = ? AND company_id = ?`, m.ID, i, aid, m.CompanyID).Exec(ctx); err != nil {
			return fmt.Errorf("copy attachment: %w", err)
		}
	}
	return nil
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
