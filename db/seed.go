package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The statements the demo seed (package seed) runs, inside its transaction.

// LockSeed serialises seeds until the transaction ends, so two cannot interleave.
func LockSeed(ctx context.Context, tx bun.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7349)")
	return err
}

// CompanyBySender returns the company whose WhatsApp sender is number, or nil.
func CompanyBySender(ctx context.Context, idb bun.IDB, number string) (*Company, error) {
	c := &Company{}
	err := idb.NewSelect().Model(c).Where("whatsapp_number = ?", number).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("company by sender: %w", err)
	}
	return c, nil
}

// InsertCompany stores a new company and fills its generated fields.
func InsertCompany(ctx context.Context, idb bun.IDB, c *Company) error {
	if _, err := idb.NewInsert().Model(c).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert company: %w", err)
	}
	return nil
}

// InsertUser stores a new agent or contact and fills its generated fields.
func InsertUser(ctx context.Context, idb bun.IDB, u *User) error {
	if _, err := idb.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// InsertMessages stores messages as they are, one statement for all.
func InsertMessages(ctx context.Context, idb bun.IDB, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if _, err := idb.NewInsert().Model(&msgs).Exec(ctx); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	return nil
}

// SetConversationTimes sets a conversation's last update and last inbound times.
func SetConversationTimes(ctx context.Context, idb bun.IDB, convID int64, lastUpdate, lastFree *time.Time) error {
	_, err := idb.NewUpdate().Model((*Conversation)(nil)).
		Set("last_update_time = ?", lastUpdate).Set("last_free_message_time = ?", lastFree).
		Where("id = ?", convID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set conversation times: %w", err)
	}
	return nil
}
