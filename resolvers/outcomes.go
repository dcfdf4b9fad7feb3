package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
)

// HeldStatusLifetime is how long a status callback that arrived before its send
// recorded the provider id is kept. It is the delivery retry horizon: a send
// answered later than that is not waited for, so its callbacks are no longer
// needed. Never shorter: a held status expired early would be lost.
const HeldStatusLifetime = 24 * time.Hour

// The delivery workers record what the provider answered through these functions,
// each one transaction with its events.

// RecordSends records sends the provider accepted (known statuses, no failure), in
// one transaction: their provider ids and statuses, the callbacks held back for
// them (applied by rank), the removal of their outbox rows, and the status
// changes' events.
func (r *Resolver) RecordSends(ctx context.Context, outs []db.SentOutcome) error {
	return r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		changes, err := db.RecordSentBatch(ctx, tx, outs, r.now())
		if err != nil {
			return err
		}
		return publish(ctx, tx, statusEvents(changes...)...)
	})
}

// RecordSend records the provider's answer to one send, as RecordSends does; the
// answer may also be a failure, with the provider's errorCode.
func (r *Resolver) RecordSend(ctx context.Context, out db.SentOutcome, errorCode *string) error {
	return r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		change, err := db.AttachProviderSID(ctx, tx, out.CompanyID, out.MessageID, out.SID, out.Status, errorCode, r.now())
		if err != nil {
			return err
		}
		return publish(ctx, tx, statusEvents(change)...)
	})
}

// FailDelivery gives a message up: FAILED with the provider's error code (nil when
// there is none), out of the outbox, and the change published.
func (r *Resolver) FailDelivery(ctx context.Context, companyID int64, messageID uuid.UUID, errorCode *string) error {
	return r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		change, err := db.AdvanceStatusByID(ctx, tx, companyID, messageID, db.StatusFailed, errorCode, r.now())
		if err != nil {
			return err
		}
		if err := db.DeleteDelivery(ctx, tx, messageID); err != nil {
			return err
		}
		return publish(ctx, tx, statusEvents(change)...)
	})
}

// DropDelivery removes the outbox row of a message that is gone, or that an earlier
// attempt already handed over or gave up: it is never sent twice.
func (r *Resolver) DropDelivery(ctx context.Context, messageID uuid.UUID) error {
	return db.DeleteDelivery(ctx, r.DB, messageID)
}

// ExpireHeldStatuses removes the held-back status callbacks older than
// HeldStatusLifetime by the Resolver's clock: those of sends whose answer was lost,
// which no message will ever claim. It returns how many it removed; run it
// periodically.
func (r *Resolver) ExpireHeldStatuses(ctx context.Context) (int, error) {
	n, err := db.ExpireHeldStatuses(ctx, r.DB, r.now().Add(-HeldStatusLifetime))
	if err != nil {
		return 0, fmt.Errorf("expire held statuses: %w", err)
	}
	return n, nil
}
