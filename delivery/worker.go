// Package delivery sends stored outbound messages to the provider. The outbox is the
// deliveries table, written in the transaction that stores a message (db.QueueMessage);
// the Pool is a use of the background-work loop (package jobs): every instance claims
// due rows with FOR UPDATE SKIP LOCKED under a lease, sends (send.go), and records
// the outcome, batched (record.go). The NOTIFY on db.DeliveriesChannel wakes the pool
// through the events bus's LISTEN connection; the poll catches what a lost
// notification would miss. Provider (provider.go) is Twilio or the development logger.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
)

// Config is what a Pool needs. Zero durations and counts take the defaults.
type Config struct {
	// DB is the database.
	DB *bun.DB
	// Bus wakes the pool on each NOTIFY of db.DeliveriesChannel (the events bus);
	// nil polls only.
	Bus jobs.Waker
	// Provider sends the messages.
	Provider Provider
	// Resolver is the business layer, through which outcomes are recorded; nil uses
	// one on DB (recording needs nothing else).
	Resolver *resolvers.Resolver
	// Log receives failures and retries.
	Log *slog.Logger
	// Workers is how many messages this instance sends at once (default 4).
	Workers int
	// StatusCallbackURL is where the provider reports progress (PUBLIC_BASE_URL +
	// "/message/status"); empty sends none.
	StatusCallbackURL string
	// MediaURL returns the absolute URL the provider fetches an attachment from (a
	// signed, expiring link), or "" to leave it out. Nil uses the attachment's
	// source_url, if any.
	MediaURL func(att *db.Attachment) string
	// Lease is how long a claimed message is reserved for its worker (default 1 min).
	// A worker that dies leaves the message to be claimed again after it; a send is
	// cut off at half of it, so a live worker never outlasts its lease.
	Lease time.Duration
	// PollInterval is how often the queue is read without a notification (default 2 s).
	PollInterval time.Duration
	// MaxAttempts is how many times a message is tried before it is FAILED (default 8).
	MaxAttempts int
	// BackoffBase is the wait after the first temporary failure; it doubles with each
	// attempt (default 2 s), up to BackoffMax (default 5 min), with ±20 % jitter.
	BackoffBase time.Duration
	// BackoffMax caps the wait between attempts.
	BackoffMax time.Duration
	// Metrics counts messages sent, retried, failed and dropped; nil counts nothing.
	Metrics *metrics.Metrics
}

// Defaults of Config.
const (
	DefaultWorkers      = 4
	DefaultLease        = time.Minute
	DefaultPollInterval = 2 * time.Second
	DefaultMaxAttempts  = 8
	DefaultBackoffBase  = 2 * time.Second
	DefaultBackoffMax   = 5 * time.Minute
)

// Pool is one instance's delivery workers.
type Pool struct {
	cfg  Config
	log  *slog.Logger
	jobs *jobs.Runner[job]
	// accepted hands accepted sends to the recorder (record.go) while Run runs.
	accepted chan *accepted
}

// New returns a pool; start it with Run.
func New(cfg Config) (*Pool, error) {
	if cfg.DB == nil || cfg.Provider == nil {
		return nil, errors.New("delivery: DB and Provider are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Lease, DefaultLease)
	def(&cfg.PollInterval, DefaultPollInterval)
	def(&cfg.BackoffBase, DefaultBackoffBase)
	def(&cfg.BackoffMax, DefaultBackoffMax)
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Resolver == nil {
		cfg.Resolver = &resolvers.Resolver{DB: cfg.DB}
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	p := &Pool{cfg: cfg, log: log.With("component", "delivery")}
	runner, err := jobs.New(jobs.Queue[job]{
		Name: "delivery", Claim: p.claim, Do: p.deliver, Lease: cfg.Lease,
		Workers: cfg.Workers,
		// Under a backlog, claim for a quarter of the workers at a time rather than
		// for each one as it frees up: a claim is three round trips made by one
		// goroutine, and claiming one message at a time capped delivery at a few
		// hundred a second however many workers there were.
		ClaimAtLeast: max(1, cfg.Workers/4),
		PollInterval: cfg.PollInterval,
		// A notification ends the pause at once (it proves the database is back).
		OutageMin: time.Second, OutageMax: 10 * time.Second,
		Bus: cfg.Bus, Channel: db.DeliveriesChannel, Log: p.log,
	})
	if err != nil {
		return nil, err
	}
	p.jobs = runner
	return p, nil
}

// Run sends queued messages until ctx is cancelled, then stops claiming, lets the
// sends in flight finish and record their outcome, and returns.
func (p *Pool) Run(ctx context.Context) {
	// The recorder outlives the workers: it stops after every send in flight has
	// been recorded.
	p.accepted = make(chan *accepted)
	stopRecorder, recorderDone := make(chan struct{}), make(chan struct{})
	go func() { p.runRecorder(p.accepted, stopRecorder); close(recorderDone) }()
	defer func() {
		close(stopRecorder)
		<-recorderDone
	}()
	p.jobs.Run(ctx)
}

// job is one claimed delivery with what sending it needs; out is nil when the
// message is gone.
type job struct {
	d   *db.Delivery
	out *db.Outbound
}

// claimTimeout bounds the recording of a batch (record.go), as jobs bounds a claim.
const claimTimeout = jobs.DefaultClaimTimeout

// claim takes up to n due deliveries and loads their messages (the jobs loop runs it
// to completion even when the pool is stopping, within a bound); an error claims
// nothing.
func (p *Pool) claim(ctx context.Context, n int, lease time.Duration) ([]job, error) {
	ds, err := db.ClaimDeliveries(ctx, p.cfg.DB, n, lease)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		ids[i] = d.MessageID
	}
	outs, err := db.OutboundByIDs(ctx, p.cfg.DB, ids)
	if err != nil {
		// Hand the claims back; if the database is gone, their leases run out instead.
		for _, d := range ds {
			if rerr := db.ReleaseDelivery(ctx, p.cfg.DB, d.MessageID, d.Attempts, d.CheckProvider); rerr != nil {
				p.log.Warn("release delivery", "message_id", db.HexID(d.MessageID), "err", rerr)
			}
		}
		return nil, fmt.Errorf("load claimed messages: %w", err)
	}
	jobs := make([]job, len(ds))
	for i, d := range ds {
		jobs[i] = job{d: d, out: outs[d.MessageID]}
	}
	return jobs, nil
}
