package db

import (
	"context"
	"errors"
	"fmt"

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
// update times to msg.Datetime. then, when not nil, runs last inside the transaction
// (to publish events).
//
// msg.ProviderSID is the idempotency key, enforced by the messages_provider_sid_key
// index rather than a read: when a message with that id exists (or is being stored
// by a concurrent call), everything is rolled back and duplicate is true. On success
// contact, msg and atts are filled with the stored rows.
func ReceiveInbound(ctx context.Context, bdb *bun.DB, contact *User, msg *Message, atts []*Attachment,
	then func(ctx context.Context, tx bun.IDB) error) (duplicate bool, err error) {
	err = bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		name := contact.FirstName
		if err := UpsertContact(ctx, tx, contact); err != nil {
			return err
		}
		if name != "" && contact.FirstName == "" && !contact.NameEdited {
			if _, err := tx.NewUpdate().Model(contact).
				Set("first_name = ?", name).Set("updated_at = now()").
				WherePK().Where("first_name = ''").Where("NOT name_edited").
				Returning("*").Exec(ctx); err != nil {
				return fmt.Errorf("name contact: %w", err)
			}
		}
		// The conversation's times move to the message's now; on a duplicate the
		// whole transaction rolls back. GREATEST: of two messages committing out of
		// order, the later time wins.
		conv, err := UpsertConversationAt(ctx, tx, contact.CompanyID, contact.ID, ChannelWhatsApp, msg.Datetime, true)
		if err != nil {
			return err
		}
		msg.CompanyID, msg.ConversationID, msg.SenderID = contact.CompanyID, conv.ID, &contact.ID
		res, err := tx.NewInsert().Model(msg).
			On("CONFLICT (provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING").
			Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert inbound message: %w", err)
		}
		// ON CONFLICT DO NOTHING with RETURNING reports a conflict as zero rows, not
		// as an error.
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errDuplicateInbound
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
		if then != nil {
			return then(ctx, tx)
		}
		return nil
	})
	if errors.Is(err, errDuplicateInbound) {
		return true, nil
	}
	return false, err
}
