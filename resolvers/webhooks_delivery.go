package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/webhooks"
)

// The webhook type of each event-log type, and of a test.
var webhookType = map[string]string{
	db.EventMessageAdded:         "message.added",
	db.EventMessageStatusChanged: "message.status_changed",
	db.EventConversationUpdated:  "conversation.updated",
}

// WebhookPing is the type of testWebhookEndpoint's delivery.
const WebhookPing = "ping"

// DispatchBatch is how many events one fan-out reads.
const DispatchBatch = 500

// DispatchWebhooks turns the events logged after the endpoint's position into
// deliveries and moves the position past them, in one transaction under the
// endpoint's row lock: each event becomes one delivery per endpoint, however many
// instances dispatch. It reports whether more events may be waiting.
func (r *Resolver) DispatchWebhooks(ctx context.Context, endpointID int64) (more bool, err error) {
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		e, err := db.WebhookEndpointByID(ctx, tx, endpointID, true)
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !e.Enabled {
			return db.ReleaseWebhookEndpoint(ctx, tx, e.ID)
		}
		evs, _, err := db.EventsAfter(ctx, tx, e.CompanyID, db.Position{XID: e.PosXID, ID: e.PosID}, DispatchBatch)
		if err != nil {
			return err
		}
		var ds []*db.WebhookDelivery
		for _, ev := range evs {
			if !e.Wants(ev.Type) {
				continue
			}
			ds = append(ds, &db.WebhookDelivery{EndpointID: e.ID, CompanyID: e.CompanyID, WebhookID: strconv.FormatInt(ev.ID, 10),
				Type: webhookType[ev.Type], ConversationID: ev.ConversationID, MessageID: ev.MessageID, OccurredAt: ev.OccurredAt})
		}
		if err := db.InsertWebhookDeliveries(ctx, tx, ds); err != nil {
			return err
		}
		if len(evs) > 0 {
			e.PosXID, e.PosID = evs[len(evs)-1].XID, evs[len(evs)-1].ID
			if err := db.UpdateWebhookEndpoint(ctx, tx, e); err != nil {
				return err
			}
		}
		more = len(evs) == DispatchBatch
		return db.ReleaseWebhookEndpoint(ctx, tx, e.ID)
	})
	return more, err
}

// TestWebhookEndpoint sends a ping to the endpoint now and returns the attempt.
func (r *Resolver) TestWebhookEndpoint(ctx context.Context, id int64) (*db.WebhookAttempt, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	e, err := endpointOf(ctx, r.DB, p.CompanyID, id, false)
	if err != nil {
		return nil, err
	}
	d := &db.WebhookDelivery{EndpointID: e.ID, CompanyID: e.CompanyID, WebhookID: "ping_" + uuid.NewString(),
		Type: WebhookPing, OccurredAt: r.now()}
	if err := db.InsertClaimedWebhookDelivery(ctx, r.DB, d, r.Webhooks.Lease); err != nil {
		return nil, err
	}
	a, _, err := r.AttemptWebhook(ctx, d)
	return a, err
}

// AttemptWebhook makes one attempt of a claimed delivery and records it: the
// attempt in the log, the delivery delivered, retried after a while (returned) or
// failed, and the endpoint's health (disabled after failing for DisableAfter).
// The attempt is nil when the delivery's endpoint is gone or disabled, or the
// claim was lost.
func (r *Resolver) AttemptWebhook(ctx context.Context, d *db.WebhookDelivery) (*db.WebhookAttempt, time.Duration, error) {
	e, err := db.WebhookEndpointByID(ctx, r.DB, d.EndpointID, false)
	if errors.Is(err, db.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if !e.Enabled && d.Type != WebhookPing {
		return nil, 0, db.CancelWebhookDeliveries(ctx, r.DB, e.ID)
	}
	body, err := r.webhookBody(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	res := r.Webhooks.Client.Send(ctx, webhooks.Message{URL: e.URL, Secret: e.Secret, ID: d.WebhookID,
		Timestamp: time.Now(), Body: body})
	if ctx.Err() != nil && !res.OK() {
		// Stopping: hand the delivery back rather than count a failure it did not have.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return nil, 0, db.ReleaseWebhookDelivery(rctx, r.DB, d)
	}
	a := &db.WebhookAttempt{DurationMS: int(res.Duration.Milliseconds())}
	if res.Status != 0 {
		a.HTTPStatus = &res.Status
	}
	if res.Err != "" {
		a.Error = &res.Err
	}
	if res.Body != "" {
		a.ResponseBody = &res.Body
	}
	out := db.WebhookOutcome{Attempt: a, State: db.WebhookDelivered}
	if !res.OK() {
		out.State = db.WebhookFailed
		if s := r.Webhooks.RetrySchedule; d.Attempts <= len(s) {
			out.State, out.RetryAfter = db.WebhookPending, jitter(s[d.Attempts-1])
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var kept bool
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if kept, err = db.RecordWebhookAttempt(ctx, tx, d, out); err != nil || !kept {
			return err
		}
		if res.OK() {
			return db.WebhookEndpointSucceeded(ctx, tx, e.ID)
		}
		return r.webhookFailed(ctx, tx, e.ID, res.Err)
	})
	if err != nil || !kept {
		return nil, 0, err
	}
	return a, out.RetryAfter, nil
}

// webhookFailed notes a failure of the endpoint, and disables it when it has been
// failing for DisableAfter: its pending deliveries are cancelled.
func (r *Resolver) webhookFailed(ctx context.Context, tx bun.Tx, id int64, lastErr string) error {
	now := r.now()
	e, err := db.WebhookEndpointFailed(ctx, tx, id, now)
	if err != nil || !e.Enabled || e.FailingSince == nil || now.Sub(*e.FailingSince) < r.Webhooks.DisableAfter {
		return err
	}
	reason := fmt.Sprintf("every delivery failed since %s (last error: %s)", e.FailingSince.Format(time.RFC3339), lastErr)
	e.Enabled, e.DisabledAt, e.DisabledReason = false, &now, &reason
	if err := db.UpdateWebhookEndpoint(ctx, tx, e); err != nil {
		return err
	}
	if r.Log != nil {
		r.Log.Warn("webhook endpoint disabled", "endpoint_id", e.ID, "company_id", e.CompanyID, "reason", reason)
	}
	return db.CancelWebhookDeliveries(ctx, tx, e.ID)
}

// jitter spreads d by ±10 %, so that deliveries that failed together do not
// retry in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// webhookBody renders a delivery as Standard Webhooks JSON, with the message and
// conversation as they are now.
func (r *Resolver) webhookBody(ctx context.Context, d *db.WebhookDelivery) ([]byte, error) {
	data := webhookData{}
	if d.MessageID != nil {
		m, err := r.webhookMessage(ctx, d.CompanyID, *d.MessageID)
		if err != nil {
			return nil, err
		}
		data.Message = m
	}
	if d.ConversationID != nil {
		c, err := r.webhookConversation(ctx, d.CompanyID, *d.ConversationID)
		if err != nil {
			return nil, err
		}
		data.Conversation = c
	}
	return json.Marshal(webhookPayload{Type: d.Type, Timestamp: d.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Data: data})
}

// WebhookLogRetention is how long finished deliveries stay in the delivery log.
const WebhookLogRetention = 30 * 24 * time.Hour

// PurgeWebhookDeliveries removes finished deliveries older than the retention,
// with their attempts, in batches (a periodic task).
func (r *Resolver) PurgeWebhookDeliveries(ctx context.Context) (int, error) {
	cutoff, total := r.now().Add(-WebhookLogRetention), 0
	for {
		n, err := db.PurgeWebhookDeliveries(ctx, r.DB, cutoff, 1000)
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}
