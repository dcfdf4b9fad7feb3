package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ClaimWebhookEndpoints takes up to n enabled endpoints whose company has events
// after their position and that no dispatcher holds, and reserves them for lease.
// The lease only spreads the work: the fan-out itself locks the row
// (WebhookEndpointByID with lock) and reads the position under that lock.
func ClaimWebhookEndpoints(ctx context.Context, idb bun.IDB, n int, lease time.Duration) ([]int64, error) {
	var ids []int64
	err := idb.NewRaw(`WITH due AS MATERIALIZED (
			SELECT e.id FROM webhook_endpoints e
			WHERE e.enabled AND (e.locked_until IS NULL OR e.locked_until < now())
				AND EXISTS (SELECT 1 FROM events v WHERE v.company_id = e.company_id AND (v.xid, v.id) > (e.pos_xid, e.pos_id)
					AND `+finalColumn+`)
			ORDER BY e.id LIMIT ?
			FOR UPDATE OF e SKIP LOCKED)
		UPDATE webhook_endpoints AS e SET locked_until = now() + make_interval(secs => ? / 1000.0)
		FROM due WHERE e.id = due.id RETURNING e.id`, n, lease.Milliseconds()).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("claim webhook endpoints: %w", err)
	}
	return ids, nil
}

// ReleaseWebhookEndpoint ends a dispatcher's lease on the endpoint.
func ReleaseWebhookEndpoint(ctx context.Context, idb bun.IDB, id int64) error {
	_, err := idb.NewRaw("UPDATE webhook_endpoints SET locked_until = NULL WHERE id = ?", id).Exec(ctx)
	return err
}

// InsertWebhookDeliveries queues ds and wakes the senders when the transaction
// commits.
func InsertWebhookDeliveries(ctx context.Context, idb bun.IDB, ds []*WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	if _, err := idb.NewInsert().Model(&ds).Returning("id, state, run_at, created_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook deliveries: %w", err)
	}
	if _, err := idb.NewRaw("SELECT pg_notify(?, '')", WebhookDeliveriesChannel).Exec(ctx); err != nil {
		return fmt.Errorf("notify webhook deliveries: %w", err)
	}
	return nil
}

// ClaimWebhookDeliveries takes up to n due deliveries of enabled endpoints,
// leaving no endpoint more than perEndpoint in flight (claims in flight of every
// instance count: a claim takes a transaction-scoped advisory lock so that two
// instances do not both fill one endpoint's slots), and reserves them for lease:
// the attempt is counted and the row falls due again when the lease ends, so a
// worker that dies mid-delivery leaves it to be delivered again.
func ClaimWebhookDeliveries(ctx context.Context, idb bun.IDB, n, perEndpoint int, lease time.Duration) ([]*WebhookDelivery, error) {
	var out []*WebhookDelivery
	err := idb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtext(?))", WebhookDeliveriesChannel).Exec(ctx); err != nil {
			return err
		}
		// cand bounds the work under a backlog (the oldest 1000 due); busy counts, once
		// per endpoint, the claims whose lease is running.
		return tx.NewRaw(`WITH cand AS MATERIALIZED (
				SELECT id, endpoint_id, run_at FROM webhook_deliveries WHERE state = 'PENDING' AND run_at <= now()
				ORDER BY run_at LIMIT 1000),
			busy AS (
				SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
				WHERE state = 'PENDING' AND locked_until IS NOT NULL AND locked_until > now()
					AND endpoint_id IN (SELECT endpoint_id FROM cand)
				GROUP BY endpoint_id),
			due AS MATERIALIZED (
				SELECT c.id FROM (
					SELECT cand.*, row_number() OVER (PARTITION BY cand.endpoint_id ORDER BY cand.run_at, cand.id) AS rn
					FROM cand JOIN webhook_endpoints e ON e.id = cand.endpoint_id AND e.enabled) c
				LEFT JOIN busy b ON b.endpoint_id = c.endpoint_id
				WHERE c.rn + coalesce(b.n, 0) <= ? ORDER BY c.run_at LIMIT ?)
			UPDATE webhook_deliveries AS d SET attempts = d.attempts + 1,
				locked_until = now() + make_interval(secs => ? / 1000.0), run_at = now() + make_interval(secs => ? / 1000.0)
			FROM due WHERE d.id = due.id AND d.state = 'PENDING'
			RETURNING d.*`, perEndpoint, n, lease.Milliseconds(), lease.Milliseconds()).Scan(ctx, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookOutcome is what an attempt leaves: the attempt's log row and the
// delivery's next state (Retry: pending again after RetryAfter).
type WebhookOutcome struct {
	Attempt    *WebhookAttempt
	State      string
	RetryAfter time.Duration
}

// RecordWebhookAttempt logs the attempt and moves the delivery on, if the claim
// that made it (attempts) is still the delivery's; it reports false when the
// claim was lost (its lease ran out and another worker took the delivery).
func RecordWebhookAttempt(ctx context.Context, idb bun.IDB, d *WebhookDelivery, o WebhookOutcome) (bool, error) {
	var rows []struct {
		Next *time.Time `bun:"next"`
	}
	err := idb.NewRaw(`UPDATE webhook_deliveries SET state = ?, locked_until = NULL,
			run_at = CASE WHEN ? = 'PENDING' THEN now() + make_interval(secs => ? / 1000.0) ELSE run_at END
		WHERE id = ? AND attempts = ? AND state = 'PENDING' RETURNING CASE WHEN state = 'PENDING' THEN run_at END AS next`,
		o.State, o.State, o.RetryAfter.Milliseconds(), d.ID, d.Attempts).Scan(ctx, &rows)
	if err != nil {
		return false, fmt.Errorf("record webhook attempt: %w", err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	a := o.Attempt
	a.DeliveryID, a.EndpointID, a.Attempt, a.NextAttemptAt = d.ID, d.EndpointID, d.Attempts, rows[0].Next
	if _, err := idb.NewInsert().Model(a).Returning("id, attempted_at").Exec(ctx); err != nil {
		return false, fmt.Errorf("log webhook attempt: %w", err)
	}
	a.WebhookID, a.Type = d.WebhookID, d.Type
	return true, nil
}

// WebhookDeliveryByID returns a delivery, or ErrNotFound.
func WebhookDeliveryByID(ctx context.Context, idb bun.IDB, id int64) (*WebhookDelivery, error) {
	d := new(WebhookDelivery)
	return d, notFound(idb.NewSelect().Model(d).Where("id = ?", id).Scan(ctx))
}

// InsertClaimedWebhookDelivery stores a delivery its caller attempts at once (a
// ping): already claimed for lease, so no worker takes it meanwhile, and taken
// again after the lease if the caller dies.
func InsertClaimedWebhookDelivery(ctx context.Context, idb bun.IDB, d *WebhookDelivery, lease time.Duration) error {
	d.Attempts = 1
	err := idb.NewRaw(`INSERT INTO webhook_deliveries (endpoint_id, company_id, webhook_id, type, conversation_id, message_id, occurred_at,
			attempts, run_at, locked_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, now() + make_interval(secs => ? / 1000.0), now() + make_interval(secs => ? / 1000.0))
		RETURNING id, state, run_at, created_at`, d.EndpointID, d.CompanyID, d.WebhookID, d.Type, d.ConversationID, d.MessageID, d.OccurredAt,
		lease.Milliseconds(), lease.Milliseconds()).Scan(ctx, &d.ID, &d.State, &d.RunAt, &d.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert ping: %w", err)
	}
	return nil
}

// ReleaseWebhookDelivery hands a claimed delivery back, due now (its worker is
// stopping); false when the claim was lost.
func ReleaseWebhookDelivery(ctx context.Context, idb bun.IDB, d *WebhookDelivery) error {
	_, err := idb.NewRaw(`UPDATE webhook_deliveries SET locked_until = NULL, run_at = now()
		WHERE id = ? AND attempts = ? AND state = 'PENDING'`, d.ID, d.Attempts).Exec(ctx)
	return err
}

// WebhookEndpointSucceeded ends the endpoint's failing streak.
func WebhookEndpointSucceeded(ctx context.Context, idb bun.IDB, id int64) error {
	_, err := idb.NewRaw("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL", id).Exec(ctx)
	return err
}

// WebhookEndpointFailed starts the endpoint's failing streak at now unless one is
// running, and returns the endpoint as it is then (locked until the transaction
// ends).
func WebhookEndpointFailed(ctx context.Context, idb bun.IDB, id int64, now time.Time) (*WebhookEndpoint, error) {
	e := new(WebhookEndpoint)
	err := idb.NewRaw(`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ? RETURNING *`,
		now, id).Scan(ctx, e)
	return e, notFound(err)
}

// PurgeWebhookDeliveries deletes up to batch finished deliveries (delivered,
// failed, cancelled) created before cutoff, with their attempts, oldest first.
func PurgeWebhookDeliveries(ctx context.Context, idb bun.IDB, cutoff time.Time, batch int) (int, error) {
	res, err := idb.NewRaw(`DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE state <> 'PENDING' AND created_at < ? ORDER BY id LIMIT ?)`,
		cutoff, batch).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge webhook deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
