// Package dispatch runs outgoing webhooks on the background-work loop (package
// jobs), as two uses of it: the fan-out, which turns each endpoint's new events
// into deliveries (woken by every event NOTIFY, and by its poll), and the senders,
// which claim due deliveries under a lease with a per-endpoint limit and make one
// attempt each (woken by the NOTIFY of queued deliveries and by retries falling
// due). The rules and transactions are the business layer's
// (resolvers/webhooks*.go).
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/resolvers"
)

// Config is what the webhook runners need.
type Config struct {
	DB *bun.DB
	// Resolver is the business layer on DB, with Webhooks set.
	Resolver *resolvers.Resolver
	Bus      jobs.Waker
	Log      *slog.Logger
	// Workers is how many deliveries run at once on this instance; PerEndpoint
	// caps one endpoint's deliveries in flight, all instances together.
	Workers, PerEndpoint int
	// PollInterval is how often the tables are read without a wake-up (0: 2 s).
	PollInterval time.Duration
}

// Runners are the fan-out and the senders; Run runs both.
type Runners struct {
	fanout *jobs.Runner[int64]
	send   *jobs.Runner[*db.WebhookDelivery]
}

// New builds the runners.
func New(cfg Config) (*Runners, error) {
	if cfg.DB == nil || cfg.Resolver == nil || cfg.Resolver.Webhooks == nil {
		return nil, errors.New("dispatch: DB and Resolver with Webhooks are required")
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "webhooks")
	r := cfg.Resolver
	rs := &Runners{}
	var err error
	rs.fanout, err = jobs.New(jobs.Queue[int64]{
		Name: "webhook fan-out", Lease: 30 * time.Second, Workers: 2, PollInterval: cfg.PollInterval,
		Bus: cfg.Bus, Channel: events.Channel, Log: log,
		Claim: func(ctx context.Context, n int, lease time.Duration) ([]int64, error) {
			return db.ClaimWebhookEndpoints(ctx, cfg.DB, n, lease)
		},
		Do: func(ctx context.Context, id int64) {
			more, err := r.DispatchWebhooks(context.WithoutCancel(ctx), id)
			if err != nil {
				log.Warn("webhook fan-out failed; it is tried again after its lease", "endpoint_id", id, "err", err)
			}
			if more {
				rs.fanout.Wake()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	per := max(cfg.PerEndpoint, 1)
	rs.send, err = jobs.New(jobs.Queue[*db.WebhookDelivery]{
		Name: "webhook sender", Lease: r.Webhooks.Lease, Workers: max(cfg.Workers, 1), PollInterval: cfg.PollInterval,
		Bus: cfg.Bus, Channel: db.WebhookDeliveriesChannel, Log: log,
		Claim: func(ctx context.Context, n int, lease time.Duration) ([]*db.WebhookDelivery, error) {
			return db.ClaimWebhookDeliveries(ctx, cfg.DB, n, per, lease)
		},
		Do: func(ctx context.Context, d *db.WebhookDelivery) {
			_, retry, err := r.AttemptWebhook(ctx, d)
			if err != nil {
				log.Warn("webhook attempt not recorded; it is made again after its lease", "delivery_id", d.ID, "err", err)
				return
			}
			if retry > 0 {
				rs.send.WakeAfter(retry)
			}
			// A slot of the endpoint is free: deliveries held back by the limit may go.
			rs.send.Wake()
		},
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// Run runs the fan-out and the senders until ctx ends.
func (rs *Runners) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { rs.fanout.Run(ctx); close(done) }()
	rs.send.Run(ctx)
	<-done
}
