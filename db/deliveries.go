package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// DeliveriesChannel is the NOTIFY channel that wakes the delivery workers when a
// message is queued (QueueMessage). The notification is only a hint; workers read
// the table.
const DeliveriesChannel = "connectme_deliveries"

// Delivery is one row of the delivery outbox: a message waiting to be handed to the
// provider. Attempts counts claims; it doubles as a fencing token, so a worker whose
// lease ran out cannot overwrite what the next claimer decided.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries"`

	MessageID   uuid.UUID  `bun:"message_id,pk,type:uuid"`
	CompanyID   int64      `bun:"company_id,notnull"`
	Attempts    int        `bun:"attempts,notnull"`
	RunAt       time.Time  `bun:"run_at,nullzero,notnull,default:current_timestamp"`
	LockedUntil *time.Time `bun:"locked_until"`
	LastError   *string    `bun:"last_error"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	// FirstAttemptAt is when the delivery was first claimed.
	FirstAttemptAt *time.Time `bun:"first_attempt_at"`
	// CheckProvider is set on a claimed delivery when an earlier attempt may have
	// reached the provider without our learning the outcome: ask the provider
	// before sending again. (Read from the claim; the column is "uncertain".)
	CheckProvider bool `bun:"check_provider,scanonly"`
}

// ClaimDeliveries takes up to n due deliveries that no live worker holds, locks them
// for lease and counts the attempt. Rows another transaction is claiming are skipped,
// not waited for, so any number of workers on any number of instances share the
// queue. A row whose lease ran out (its worker died) is due again. The claim marks
// the delivery uncertain (an attempt is starting) and returns, as CheckProvider,
// whether it already was: an earlier attempt whose outcome was never learnt.
func ClaimDeliveries(ctx context.Context, idb bun.IDB, n int, lease time.Duration) ([]*Delivery, error) {
	// The CTE is MATERIALIZED so that the LIMIT and SKIP LOCKED subquery runs exactly
	// once; an IN (subquery) may be planned to run it again and claim more than n.
	var out []*Delivery
	err := idb.NewRaw(`WITH due AS MATERIALIZED (
			SELECT message_id, uncertain FROM deliveries
			WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now())
			ORDER BY run_at
			LIMIT ?
			FOR UPDATE SKIP LOCKED
		)
		UPDATE deliveries AS d
		SET locked_until = now() + make_interval(secs => ? / 1000.0), attempts = d.attempts + 1,
			uncertain = true, first_attempt_at = coalesce(d.first_attempt_at, now())
		FROM due
		WHERE d.message_id = due.message_id
		RETURNING d.message_id, d.company_id, d.attempts, d.run_at, d.locked_until, d.last_error, d.created_at,
			d.first_attempt_at, due.uncertain AS check_provider`,
		n, lease.Milliseconds()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// RetryDelivery puts a claimed delivery back in the queue, due after delay, and
// notes why it failed. uncertain says whether the provider may have the message
// after all (the attempt's outcome is unknown); false clears the mark the claim set.
// It reports false when the claim was lost (attempts moved on).
func RetryDelivery(ctx context.Context, idb bun.IDB, messageID uuid.UUID, attempts int, delay time.Duration, lastError string, uncertain bool) (bool, error) {
	res, err := idb.NewRaw(`UPDATE deliveries
		SET run_at = now() + make_interval(secs => ? / 1000.0), locked_until = NULL, last_error = ?, uncertain = ?
		WHERE message_id = ? AND attempts = ?`,
		delay.Milliseconds(), lastError, uncertain, messageID, attempts).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("retry delivery: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ReleaseDelivery hands back a claimed delivery that was never tried (the worker is
// stopping), uncounting the attempt, so another instance takes it at once instead
// of after the lease. uncertain restores the mark as the claim found it.
func ReleaseDelivery(ctx context.Context, idb bun.IDB, messageID uuid.UUID, attempts int, uncertain bool) error {
	_, err := idb.NewRaw(`UPDATE deliveries SET locked_until = NULL, attempts = attempts - 1, uncertain = ?
		WHERE message_id = ? AND attempts = ?`, uncertain, messageID, attempts).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release delivery: %w", err)
	}
	return nil
}

// DeleteDelivery removes a message from the outbox once it is sent or given up.
func DeleteDelivery(ctx context.Context, idb bun.IDB, messageID uuid.UUID) error {
	if _, err := idb.NewRaw("DELETE FROM deliveries WHERE message_id = ?", messageID).Exec(ctx); err != nil {
		return fmt.Errorf("delete delivery: %w", err)
	}
	return nil
}

// Outbound is everything sending one queued message needs.
type Outbound struct {
	MessageID      uuid.UUID `bun:"id,type:uuid"`
	CompanyID      int64     `bun:"company_id"`
	ConversationID int64     `bun:"conversation_id"`
	MessageType    string    `bun:"message_type"`
	Content        *string   `bun:"content"`
	Status         string    `bun:"status"`
	ProviderSID    *string   `bun:"provider_sid"`
	TemplateParams []string  `bun:"template_params,array"`
	// ContentSID is the template's approved Twilio content ("HX…"), if any.
	ContentSID *string `bun:"content_sid"`
	// ContactPhone is the contact's E.164 number.
	ContactPhone *string `bun:"contact_phone"`
	// CompanyNumber is the company's sender, "whatsapp:+…".
	CompanyNumber *string `bun:"company_number"`

	Attachments []*Attachment `bun:"-"`
}

// OutboundByIDs loads the queued messages with the given ids, with their contact's
// phone, their company's sender, their template and their attachments in order, in
// two queries for the whole batch. Ids with no delivery row of the message's own
// company are left out.
func OutboundByIDs(ctx context.Context, idb bun.IDB, ids []uuid.UUID) (map[uuid.UUID]*Outbound, error) {
	out := make(map[uuid.UUID]*Outbound, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*Outbound
	err := idb.NewRaw(`SELECT m.id, m.company_id, m.conversation_id, m.message_type, m.content, m.status,
			m.provider_sid, m.template_params, t.content_sid,
			u.phone AS contact_phone, co.whatsapp_number AS company_number
		FROM messages AS m
		JOIN deliveries AS d ON d.message_id = m.id AND d.company_id = m.company_id
		JOIN companies AS co ON co.id = m.company_id
		JOIN conversations AS c ON c.id = m.conversation_id AND c.company_id = m.company_id
		JOIN users AS u ON u.id = c.user_id AND u.company_id = m.company_id
		LEFT JOIN templates AS t ON t.id = m.template_id AND (t.company_id IS NULL OR t.company_id = m.company_id)
		WHERE m.id IN (?)`, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load outbound messages: %w", err)
	}
	for _, r := range rows {
		out[r.MessageID] = r
	}
	var atts []*Attachment
	err = idb.NewSelect().Model(&atts).
		Join("JOIN messages AS m ON m.id = attachment.message_id AND m.company_id = attachment.company_id").
		Where("attachment.message_id IN (?)", bun.List(ids)).
		OrderExpr("attachment.message_id, attachment.ord NULLS LAST, attachment.id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load outbound attachments: %w", err)
	}
	for _, a := range atts {
		if o := out[*a.MessageID]; o != nil {
			o.Attachments = append(o.Attachments, a)
		}
	}
	return out, nil
}

// QueueStats is the delivery outbox at one moment (for metrics).
type QueueStats struct {
	// Depth counts every waiting message; Due those that may be sent now.
	Depth, Due int64
	// OldestAge is how long the oldest waiting message has waited (0 when none).
	OldestAge time.Duration
}

// DeliveryQueueStats reads the outbox's size and age in one query.
func DeliveryQueueStats(ctx context.Context, idb bun.IDB) (QueueStats, error) {
	var row struct {
		Depth  int64   `bun:"depth"`
		Due    int64   `bun:"due"`
		Oldest float64 `bun:"oldest"`
	}
	err := idb.NewRaw(`SELECT count(*) AS depth,
			count(*) FILTER (WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now())) AS due,
			COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
		FROM deliveries`).Scan(ctx, &row)
	if err != nil {
		return QueueStats{}, fmt.Errorf("delivery queue stats: %w", err)
	}
	return QueueStats{Depth: row.Depth, Due: row.Due, OldestAge: time.Duration(row.Oldest * float64(time.Second))}, nil
}

// KnownProviderSIDs reports which of sids a message already carries.
func KnownProviderSIDs(ctx context.Context, idb bun.IDB, sids []string) (map[string]bool, error) {
	var found []string
	if err := idb.NewSelect().Model((*Message)(nil)).Column("provider_sid").
		Where("provider_sid IN (?)", bun.List(sids)).Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("known provider sids: %w", err)
	}
	known := make(map[string]bool, len(found))
	for _, s := range found {
		known[s] = true
	}
	return known, nil
}
