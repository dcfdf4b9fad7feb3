package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ErrDuplicateClientMessage is QueueMessage's answer for a message whose
// ClientMessageID its conversation already has: the caller rolls back and reads
// the first message (MessageByClientID).
var ErrDuplicateClientMessage = errors.New("client message id already used in the conversation")

// MessageByClientID returns the company's message with that ClientMessageID in the
// conversation, or ErrNotFound.
func MessageByClientID(ctx context.Context, idb bun.IDB, companyID, conversationID int64, clientMessageID string) (*Message, error) {
	m := new(Message)
	err := idb.NewSelect().Model(m).Where("conversation_id = ?", conversationID).
		Where("client_message_id = ?", clientMessageID).Where("company_id = ?", companyID).Scan(ctx)
	return m, notFound(err)
}

// QueueMessage stores an outbound message with its delivery job and the wake-up of
// the delivery workers, then links the given attachments of the
// company to it, in order; call it inside a transaction. An attachment already
// carried by another message is copied, so one upload can be sent many times.
// The statement that stores the message also sends notify (their conversation keys
// get m's conversation id): message, outbox row, wake-up and events are one
// statement, one round trip (plus one or two per attachment).
//
// A message with a ClientMessageID its conversation already has is not stored:
// the insert does nothing on messages_client_message_id_key (a concurrent insert
// of the same id waits for the other to commit), so neither does the rest of the
// statement, and QueueMessage returns ErrDuplicateClientMessage.
func QueueMessage(ctx context.Context, idb bun.IDB, m *Message, attachmentIDs []int64, notify []Notification) error {
	msgQ := idb.NewInsert().Model(m).Returning("id, company_id, conversation_id, created_at")
	if m.ClientMessageID != nil {
		msgQ = msgQ.On("CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING")
	}
	queuedQ := idb.NewRaw("INSERT INTO deliveries (message_id, company_id, run_at) SELECT id, company_id, now() FROM msg RETURNING message_id")
	q := idb.NewSelect().With("msg", msgQ).With("queued", queuedQ).
		TableExpr("msg CROSS JOIN queued").
		ColumnExpr("msg.created_at, pg_notify(?, '')", DeliveriesChannel)
	q = withNotifications(idb, q, "msg.conversation_id", "(SELECT conversation_id FROM msg)", notify)
	var out struct {
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := q.Scan(ctx, &out); errors.Is(err, sql.ErrNoRows) && m.ClientMessageID != nil {
		return ErrDuplicateClientMessage
	} else if err != nil {
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
