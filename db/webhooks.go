package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// WebhookEndpoint is a company's receiver of outgoing webhooks (CONTRACT §7).
type WebhookEndpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints"`

	ID             int64      `bun:"id,pk,autoincrement"`
	CompanyID      int64      `bun:"company_id,notnull"`
	URL            string     `bun:"url,notnull"`
	Secret         string     `bun:"secret,notnull"`
	EventTypes     []string   `bun:"event_types,array"`
	Enabled        bool       `bun:"enabled,notnull"`
	DisabledAt     *time.Time `bun:"disabled_at"`
	DisabledReason *string    `bun:"disabled_reason"`
	FailingSince   *time.Time `bun:"failing_since"`
	PosXID         int64      `bun:"pos_xid,notnull"`
	PosID          int64      `bun:"pos_id,notnull"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// Wants reports whether the endpoint subscribes to events of the log type t.
func (e *WebhookEndpoint) Wants(t string) bool {
	for _, w := range e.EventTypes {
		if w == t {
			return true
		}
	}
	return false
}

// The states of a webhook delivery.
const (
	WebhookPending   = "PENDING"
	WebhookDelivered = "DELIVERED"
	WebhookFailed    = "FAILED"
	WebhookCancelled = "CANCELLED"
)

// WebhookDelivery is one event (or ping) to send to one endpoint.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID             int64      `bun:"id,pk,autoincrement"`
	EndpointID     int64      `bun:"endpoint_id,notnull"`
	CompanyID      int64      `bun:"company_id,notnull"`
	WebhookID      string     `bun:"webhook_id,notnull"`
	Type           string     `bun:"type,notnull"`
	ConversationID *int64     `bun:"conversation_id"`
	MessageID      *uuid.UUID `bun:"message_id,type:uuid"`
	OccurredAt     time.Time  `bun:"occurred_at,notnull"`
	State          string     `bun:"state,nullzero,notnull,default:'PENDING'"`
	Attempts       int        `bun:"attempts,notnull"`
	RunAt          time.Time  `bun:"run_at,nullzero,notnull,default:current_timestamp"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// WebhookAttempt is one try of a delivery, as the delivery log shows it.
type WebhookAttempt struct {
	bun.BaseModel `bun:"table:webhook_attempts,alias:wa"`

	ID            int64      `bun:"id,pk,autoincrement"`
	DeliveryID    int64      `bun:"delivery_id,notnull"`
	EndpointID    int64      `bun:"endpoint_id,notnull"`
	Attempt       int        `bun:"attempt,notnull"`
	HTTPStatus    *int       `bun:"http_status"`
	DurationMS    int        `bun:"duration_ms,notnull"`
	Error         *string    `bun:"error"`
	ResponseBody  *string    `bun:"response_body"`
	NextAttemptAt *time.Time `bun:"next_attempt_at"`
	AttemptedAt   time.Time  `bun:"attempted_at,nullzero,notnull,default:current_timestamp"`

	// WebhookID and Type are the delivery's (joined when listed).
	WebhookID string `bun:"webhook_id,scanonly"`
	Type      string `bun:"type,scanonly"`
}

// WebhookDeliveriesChannel is the NOTIFY channel that wakes the webhook senders
// when deliveries are queued.
const WebhookDeliveriesChannel = "connectme_webhook_deliveries"

// InsertWebhookEndpoint stores a new endpoint.
func InsertWebhookEndpoint(ctx context.Context, idb bun.IDB, e *WebhookEndpoint) error {
	if _, err := idb.NewInsert().Model(e).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoints returns the company's endpoints, oldest first.
func WebhookEndpoints(ctx context.Context, idb bun.IDB, companyID int64) ([]*WebhookEndpoint, error) {
	var out []*WebhookEndpoint
	err := idb.NewSelect().Model(&out).Where("company_id = ?", companyID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints: %w", err)
	}
	return out, nil
}

// WebhookEndpointByID returns an endpoint whatever its company (the caller checks
// the tenant), locked FOR UPDATE when lock is set, or ErrNotFound.
func WebhookEndpointByID(ctx context.Context, idb bun.IDB, id int64, lock bool) (*WebhookEndpoint, error) {
	e := new(WebhookEndpoint)
	q := idb.NewSelect().Model(e).Where("id = ?", id)
	if lock {
		q = q.For("UPDATE")
	}
	return e, notFound(q.Scan(ctx))
}

// UpdateWebhookEndpoint writes e's settings, state and position.
func UpdateWebhookEndpoint(ctx context.Context, idb bun.IDB, e *WebhookEndpoint) error {
	_, err := idb.NewUpdate().Model(e).
		Column("url", "event_types", "enabled", "disabled_at", "disabled_reason", "failing_since", "pos_xid", "pos_id").
		WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update webhook endpoint: %w", err)
	}
	return nil
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries and their log.
func DeleteWebhookEndpoint(ctx context.Context, idb bun.IDB, id int64) error {
	if _, err := idb.NewDelete().Model((*WebhookEndpoint)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	return nil
}

// CancelWebhookDeliveries cancels the endpoint's pending deliveries (it was
// disabled): they are not attempted again.
func CancelWebhookDeliveries(ctx context.Context, idb bun.IDB, endpointID int64) error {
	_, err := idb.NewRaw("UPDATE webhook_deliveries SET state = ?, locked_until = NULL WHERE endpoint_id = ? AND state = ?",
		WebhookCancelled, endpointID, WebhookPending).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cancel webhook deliveries: %w", err)
	}
	return nil
}

// WebhookAttempts returns up to limit attempts of the endpoint's deliveries with
// an id below before (0: from the newest), newest first.
func WebhookAttempts(ctx context.Context, idb bun.IDB, endpointID, before int64, limit int) ([]*WebhookAttempt, error) {
	var out []*WebhookAttempt
	q := idb.NewSelect().Model(&out).ColumnExpr("wa.*, d.webhook_id, d.type").
		Join("JOIN webhook_deliveries AS d ON d.id = wa.delivery_id").
		Where("wa.endpoint_id = ?", endpointID).OrderExpr("wa.id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("wa.id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("webhook attempts: %w", err)
	}
	return out, nil
}

// LockCompanyWebhooks serialises changes to the company's set of endpoints until
// the transaction ends (a transaction-scoped advisory lock).
func LockCompanyWebhooks(ctx context.Context, idb bun.IDB, companyID int64) error {
	_, err := idb.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended('webhook_endpoints:' || ?::text, 0))", companyID).Exec(ctx)
	return err
}
