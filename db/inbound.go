package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// CompanyByWhatsAppNumber returns the company whose WhatsApp sender number is exactly
// number (e.g. "whatsapp:+14155238886"), or ErrNotFound.
func CompanyByWhatsAppNumber(ctx context.Context, idb bun.IDB, number string) (*Company, error) {
	c := new(Company)
	err := idb.NewSelect().Model(c).Where("whatsapp_number = ?", number).Scan(ctx)
	return c, notFound(err)
}

// MessageByProviderSID returns the company's message with that provider id, or
// ErrNotFound (also when another company's message has it).
func MessageByProviderSID(ctx context.Context, idb bun.IDB, companyID int64, sid string) (*Message, error) {
	m := new(Message)
	err := idb.NewSelect().Model(m).Where("provider_sid = ?", sid).Where("company_id = ?", companyID).Scan(ctx)
	return m, notFound(err)
}

// MessagesByProviderSIDs returns the company's messages among those provider ids,
// in any order (messages_provider_sid_key serves it).
func MessagesByProviderSIDs(ctx context.Context, idb bun.IDB, companyID int64, sids []string) ([]*Message, error) {
	var msgs []*Message
	err := idb.NewSelect().Model(&msgs).Where("provider_sid IN (?)", bun.List(sids)).Where("company_id = ?", companyID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("messages by provider id: %w", err)
	}
	return msgs, nil
}

// ErrDuplicateInbound is ReceiveInbound's answer for a message whose provider id is
// already stored: the caller rolls its transaction back.
var ErrDuplicateInbound = errors.New("inbound message already stored")

// ReceiveInbound stores a message a contact sent, inside the caller's transaction: it
// finds or creates the contact (by contact.CompanyID and contact.Phone;
// contact.FirstName is the name to give a new contact, or an existing one whose first
// name is empty and was never edited by an agent), finds or creates the WhatsApp
// conversation, inserts msg and its attachments, and moves the conversation's last
// free message and last update times to msg.Datetime. The statement that stores the
// message also sends notify, whose conversation keys get the conversation's id:
// contact, conversation, message and events are one round trip, parsed and planned
// once, instead of four or five.
//
// msg.ProviderSID is the idempotency key, enforced by the messages_provider_sid_key
// index rather than a read: when a message with that id exists (or is being stored
// by a concurrent call), it returns ErrDuplicateInbound and the caller must roll
// back (the contact's row may have been touched). On success contact, msg and atts
// are filled with the stored rows.
func ReceiveInbound(ctx context.Context, idb bun.IDB, contact *User, msg *Message, atts []*Attachment,
	notify []Notification) error {
	contact.Kind = KindContact
	// A known contact keeps its row, and gets the name only when it has none and an
	// agent never edited it. DO UPDATE rather than DO NOTHING: the row comes back
	// (and is locked) also when it exists.
	naming := `EXCLUDED.first_name <> '' AND "user".first_name = '' AND NOT "user".name_edited`
	contactQ := idb.NewInsert().Model(contact).
		On("CONFLICT (company_id, phone) WHERE kind = 'CONTACT' DO UPDATE").
		Set(`first_name = CASE WHEN ` + naming + ` THEN EXCLUDED.first_name ELSE "user".first_name END`).
		Set(`updated_at = CASE WHEN ` + naming + ` THEN now() ELSE "user".updated_at END`).
		Returning("*")
	// The conversation's times move to the message's; on a duplicate the whole
	// transaction rolls back. GREATEST: of two messages committing out of order,
	// the later time wins.
	conv := &Conversation{CompanyID: contact.CompanyID, ChannelID: ChannelWhatsApp}
	convQ := upsertConversationAt(idb, conv, msg.Datetime, true).
		Value("user_id", "(SELECT id FROM contact)").Returning("id")
	msg.CompanyID = contact.CompanyID
	msgQ := idb.NewInsert().Model(msg).
		Value("conversation_id", "(SELECT id FROM conv)").
		Value("sender_id", "(SELECT id FROM contact)").
		On("CONFLICT (provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING").
		Returning("created_at")
	var out struct {
		Contact        User       `bun:"embed:u_"`
		ConversationID int64      `bun:"conversation_id"`
		CreatedAt      *time.Time `bun:"created_at"`
	}
	// ON CONFLICT DO NOTHING reports a conflict as no row, not as an error. The
	// statement returns one row, so each notification is sent once (and dropped with
	// the rollback of a duplicate).
	q := idb.NewSelect().With("contact", contactQ).With("conv", convQ).With("msg", msgQ).
		TableExpr("contact AS u CROSS JOIN conv LEFT JOIN msg ON true").
		ColumnExpr(summaryColumns(idb).user).
		ColumnExpr("conv.id AS conversation_id, msg.created_at")
	q = withNotifications(idb, q, "conv.id", "(SELECT id FROM conv)", notify)
	if err := q.Scan(ctx, &out); err != nil {
		return fmt.Errorf("insert inbound message: %w", err)
	}
	if out.CreatedAt == nil {
		return ErrDuplicateInbound
	}
	*contact = out.Contact
	msg.ConversationID, msg.SenderID, msg.CreatedAt = out.ConversationID, &contact.ID, *out.CreatedAt
	for _, a := range atts {
		a.CompanyID, a.MessageID = msg.CompanyID, &msg.ID
		// One row at a time: ids returned by a multi-row insert are not guaranteed
		// to come back in VALUES order. A message has at most ten.
		if _, err := idb.NewInsert().Model(a).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert inbound attachment: %w", err)
		}
	}
	msg.Attachments = atts
	if len(atts) > 0 {
		// Wake the media fetcher on commit.
		if _, err := idb.NewRaw("SELECT pg_notify(?, '')", MediaChannel).Exec(ctx); err != nil {
			return fmt.Errorf("wake the media fetcher: %w", err)
		}
	}
	return nil
}
