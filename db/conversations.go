package db

import (
	"context"
	"fmt"

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
