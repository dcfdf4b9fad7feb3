package resolvers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/webhooks"
)

// Webhooks is what outgoing webhooks need (CONTRACT §7): the client that posts
// them (its Policy also checks URLs when saved) and the retry rules.
type Webhooks struct {
	Client *webhooks.Client
	// RetrySchedule is the wait before each retry (±10 % jitter); after the last
	// the delivery has failed.
	RetrySchedule []time.Duration
	// DisableAfter is how long an endpoint may fail without a success.
	DisableAfter time.Duration
	// Lease is how long a claimed delivery is reserved (longer than the timeout).
	Lease time.Duration
}

// MaxWebhookEndpoints caps a company's endpoints.
const MaxWebhookEndpoints = 20

// WebhookEndpointInput creates an endpoint.
type WebhookEndpointInput struct {
	URL        string
	EventTypes []string
}

// WebhookEndpointChange changes an endpoint; nil fields stay.
type WebhookEndpointChange struct {
	ID         int64
	URL        *string
	EventTypes []string
	Enabled    *bool
}

// webhookEventTypes are the event types an endpoint may ask for (the log's).
var webhookEventTypes = []string{db.EventMessageAdded, db.EventMessageStatusChanged, db.EventConversationUpdated}

// checkWebhook validates an endpoint's URL and event types (nil: unchanged).
func (r *Resolver) checkWebhook(ctx context.Context, url *string, types []string, typesGiven bool) error {
	var v apperr.Validation
	if url != nil {
		if msg := r.Webhooks.Client.Policy.CheckURL(ctx, strings.TrimSpace(*url)); msg != "" {
			v.Addf("%s", msg)
		}
	}
	if typesGiven {
		if len(types) == 0 {
			v.Addf("eventTypes must name at least one event type")
		}
		for _, t := range types {
			if !slices.Contains(webhookEventTypes, t) {
				v.Addf("eventTypes: unknown event type %q", t)
			}
		}
	}
	return v.Err()
}

// WebhookEndpoints returns the company's endpoints (OWNER and ADMIN only).
func (r *Resolver) WebhookEndpoints(ctx context.Context) ([]*db.WebhookEndpoint, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	es, err := db.WebhookEndpoints(ctx, r.DB, p.CompanyID)
	for _, e := range es {
		e.Secret = "" // shown only when created
	}
	return es, err
}

// CreateWebhookEndpoint adds an endpoint with a new secret; it receives the events
// logged from now on.
func (r *Resolver) CreateWebhookEndpoint(ctx context.Context, in WebhookEndpointInput) (*db.WebhookEndpoint, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.checkWebhook(ctx, &in.URL, in.EventTypes, true); err != nil {
		return nil, err
	}
	e := &db.WebhookEndpoint{CompanyID: p.CompanyID, URL: strings.TrimSpace(in.URL), Secret: webhooks.NewSecret(),
		EventTypes: uniq(in.EventTypes), Enabled: true}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Serialise the company's creations for the cap.
		if err := db.LockCompanyWebhooks(ctx, tx, p.CompanyID); err != nil {
			return err
		}
		have, err := db.WebhookEndpoints(ctx, tx, p.CompanyID)
		if err != nil {
			return err
		}
		if len(have) >= MaxWebhookEndpoints {
			return apperr.Invalidf("a company has at most %d webhook endpoints", MaxWebhookEndpoints)
		}
		head, err := db.EventsHead(ctx, tx, p.CompanyID)
		if err != nil {
			return err
		}
		e.PosXID, e.PosID = head.XID, head.ID
		return db.InsertWebhookEndpoint(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// endpointOf returns the endpoint id of the caller's company, locked when lock:
// FORBIDDEN when it is another company's, NOT_FOUND when there is none.
func endpointOf(ctx context.Context, idb bun.IDB, companyID, id int64, lock bool) (*db.WebhookEndpoint, error) {
	e, err := db.WebhookEndpointByID(ctx, idb, id, lock)
	if errors.Is(err, db.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "no webhook endpoint with this id")
	}
	if err != nil {
		return nil, err
	}
	if e.CompanyID != companyID {
		return nil, apperr.New(apperr.Forbidden, "this webhook endpoint belongs to another company")
	}
	return e, nil
}

// UpdateWebhookEndpoint changes an endpoint. Disabling it cancels its pending
// deliveries; enabling it again starts it at the newest event (the missed ones
// can be read with events).
func (r *Resolver) UpdateWebhookEndpoint(ctx context.Context, ch WebhookEndpointChange) (*db.WebhookEndpoint, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.checkWebhook(ctx, ch.URL, ch.EventTypes, ch.EventTypes != nil); err != nil {
		return nil, err
	}
	var e *db.WebhookEndpoint
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if e, err = endpointOf(ctx, tx, p.CompanyID, ch.ID, true); err != nil {
			return err
		}
		if ch.URL != nil {
			e.URL = strings.TrimSpace(*ch.URL)
		}
		if ch.EventTypes != nil {
			e.EventTypes = uniq(ch.EventTypes)
		}
		if ch.Enabled != nil && *ch.Enabled != e.Enabled {
			if e.Enabled = *ch.Enabled; e.Enabled {
				head, err := db.EventsHead(ctx, tx, p.CompanyID)
				if err != nil {
					return err
				}
				e.PosXID, e.PosID = head.XID, head.ID
				e.DisabledAt, e.DisabledReason, e.FailingSince = nil, nil, nil
			} else {
				now, reason := r.now(), "disabled by an administrator"
				e.DisabledAt, e.DisabledReason = &now, &reason
				if err := db.CancelWebhookDeliveries(ctx, tx, e.ID); err != nil {
					return err
				}
			}
		}
		return db.UpdateWebhookEndpoint(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	e.Secret = "" // shown only when created
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint, its pending deliveries and its log.
func (r *Resolver) DeleteWebhookEndpoint(ctx context.Context, id int64) (bool, error) {
	p, err := manager(ctx)
	if err != nil {
		return false, err
	}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := endpointOf(ctx, tx, p.CompanyID, id, true); err != nil {
			return err
		}
		return db.DeleteWebhookEndpoint(ctx, tx, id)
	})
	return err == nil, err
}

// WebhookAttemptsPage is a page of an endpoint's delivery log, newest first.
type WebhookAttemptsPage struct {
	Attempts    []*db.WebhookAttempt
	HasNextPage bool
}

// WebhookDeliveries returns up to first attempts of the endpoint's deliveries made
// before the attempt after (0: from the newest), newest first.
func (r *Resolver) WebhookDeliveries(ctx context.Context, endpointID int64, first int, after int64) (*WebhookAttemptsPage, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	if first < 1 || first > 200 {
		return nil, apperr.Invalidf("first must be between 1 and 200")
	}
	if _, err := endpointOf(ctx, r.DB, p.CompanyID, endpointID, false); err != nil {
		return nil, err
	}
	as, err := db.WebhookAttempts(ctx, r.DB, endpointID, after, first+1)
	if err != nil {
		return nil, err
	}
	page := &WebhookAttemptsPage{Attempts: as, HasNextPage: len(as) > first}
	if page.HasNextPage {
		page.Attempts = as[:first]
	}
	return page, nil
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
