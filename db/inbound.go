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

// errDuplicateInbound rolls back the transaction of an inbound message whose provider
// id is already stored.
var errDuplicateInbound = errors.New("inbound message already stored")

// ReceiveInbound stores a message a contact sent, all in one transaction: it finds or
// creates the contact (by contact.CompanyID and contact.Phone; contact.FirstName is
// the name to give a new contact, or an existing one whose first name is empty and
// was never edited by an agent), finds or creates the WhatsApp conversation, inserts
// msg and its attachments, and moves the conversation's last free message and last
// update times to msg.Datetime. notices, when not nil, are evaluated by the statement
// that stores the message: the events are published without a round trip of their
// own, and only if the transaction commits.
//
// msg.ProviderSID is the idempotency key, enforced by the messages_provider_sid_key
// index rather than a read: when a message with that id exists (or is being stored
// by a concurrent call), everything is rolled back and duplicate is true. On success
// contact, msg and atts are filled with the stored rows.
func ReceiveInbound(ctx context.Context, bdb *bun.DB, contact *User, msg *Message, atts []*Attachment,
	notices Notices) (duplicate bool, err error) {
	err = bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := receive(ctx, tx, contact, msg, notices); err != nil {
			return err
		}
		for _, a := range atts {
			a.CompanyID, a.MessageID = msg.CompanyID, &msg.ID
			// One row at a time: ids returned by a multi-row insert are not
			// guaranteed to come back in VALUES order. A message has at most ten.
			if _, err := tx.NewInsert().Model(a).Returning("*").Exec(ctx); err != nil {
				return fmt.Errorf("insert inbound attachment: %w", err)
			}
		}
		msg.Attachments = atts
		if len(atts) > 0 {
			// Wake the media fetcher on commit.
			if _, err := tx.NewRaw("SELECT pg_notify(?, '')", MediaChannel).Exec(ctx); err != nil {
				return fmt.Errorf("wake the media fetcher: %w", err)
			}
		}
		return nil
	})
	if errors.Is(err, errDuplicateInbound) {
		return true, nil
	}
	return false, err
}

// Notices renders select-list expressions (and their arguments) that publish the
// events of a change, for the statement that makes it (events.NotifyColumns). convID
// is the SQL expression of the conversation's id in that statement.
type Notices func(convID string) (string, []any, error)

// receive upserts the contact and the conversation, inserts the message and
// evaluates notices in one statement (one round trip, parsed and planned once,
// instead of four or five); it returns errDuplicateInbound when the message's
// provider id is already stored.
func receive(ctx context.Context, tx bun.Tx, contact *User, msg *Message, notices Notices) error {
	contact.Kind = KindContact
	// A known contact keeps its row, and gets the name only when it has none and an
	// agent never edited it. DO UPDATE rather than DO NOTHING: the row comes back
	// (and is locked) also when it exists.
	naming := `EXCLUDED.first_name <> '' AND "user".first_name = '' AND NOT "user".name_edited`
	contactQ := tx.NewInsert().Model(contact).
		On("CONFLICT (company_id, phone) WHERE kind = 'CONTACT' DO UPDATE").
		Set(`first_name = CASE WHEN ` + naming + ` THEN EXCLUDED.first_name ELSE "user".first_name END`).
		Set(`updated_at = CASE WHEN ` + naming + ` THEN now() ELSE "user".updated_at END`).
		Returning("*")
	// The conversation's times move to the message's; on a duplicate the whole
	// transaction rolls back. GREATEST: of two messages committing out of order,
	// the later time wins.
	conv := &Conversation{CompanyID: contact.CompanyID, ChannelID: ChannelWhatsApp}
	convQ := upsertConversationAt(tx, conv, msg.Datetime, true).
		Value("user_id", "(SELECT id FROM contact)").Returning("id")
	msg.CompanyID = contact.CompanyID
	msgQ := tx.NewInsert().Model(msg).
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
	// statement returns one row, so notices are evaluated once (and their events
	// dropped with the rollback of a duplicate).
	q := tx.NewSelect().With("contact", contactQ).With("conv", convQ).With("msg", msgQ).
		TableExpr("contact AS u CROSS JOIN conv LEFT JOIN msg ON true").
		ColumnExpr(summaryColumns(tx).user).
		ColumnExpr("conv.id AS conversation_id, msg.created_at")
	if notices != nil {
		cols, args, err := notices("conv.id")
		if err != nil {
			return fmt.Errorf("inbound events: %w", err)
		}
		q = q.ColumnExpr(cols, args...)
	}
	if err := q.Scan(ctx, &out); err != nil {
		return fmt.Errorf("insert inbound message: %w", err)
	}
	if out.CreatedAt == nil {
		return errDuplicateInbound
	}
	*contact = out.Contact
	msg.ConversationID, msg.SenderID, msg.CreatedAt = out.ConversationID, &contact.ID, *out.CreatedAt
	return nil
}
