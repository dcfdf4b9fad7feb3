// Package delivery sends stored outbound messages to the provider. The outbox is the
// deliveries table, written in the transaction that stores a message; a pool of
// workers runs in every instance, claims due rows with FOR UPDATE SKIP LOCKED under
// a lease, sends, and records the outcome. NOTIFY wakes the workers at once; a slow
// poll catches what a lost notification would miss.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
)

// Config is what a Pool needs. Zero durations and counts take the defaults.
type Config struct {
	// DB is the database; it must run on pgdriver (the wake-up uses its Listener).
	DB *bun.DB
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

// Pauses while the database is unavailable: the first look again after
// outageMinWait, then doubling up to outageMaxWait. A notification ends the pause at
// once (it proves the database is back).
const (
	outageMinWait = time.Second
	outageMaxWait = 10 * time.Second
)

// Pool is one instance's delivery workers.
type Pool struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	// accepted hands accepted sends to the recorder (record.go) while Run runs.
	accepted chan *accepted
}

// New returns a pool; start it with Run.
func New(cfg Config) (*Pool, error) {
	if cfg.DB == nil || cfg.Provider == nil {
		return nil, errors.New("delivery: DB and Provider are required")
	}
	if _, ok := cfg.DB.Driver().(pgdriver.Driver); !ok {
		return nil, errors.New("delivery: the database must use pgdriver (LISTEN needs it)")
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
	return &Pool{cfg: cfg, log: log.With("component", "delivery"), wake: make(chan struct{}, 1)}, nil
}

// poke wakes the dispatcher; a wake-up already pending is as good as a second one.
func (p *Pool) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run sends queued messages until ctx is cancelled, then stops claiming, lets the
// sends in flight finish and record their outcome, and returns.
func (p *Pool) Run(ctx context.Context) {
	stopListening := p.listen()
	defer stopListening()

	// The recorder outlives the workers: deferred before wg.Wait, it stops after
	// every send in flight has been recorded.
	p.accepted = make(chan *accepted)
	stopRecorder, recorderDone := make(chan struct{}), make(chan struct{})
	go func() { p.runRecorder(p.accepted, stopRecorder); close(recorderDone) }()
	defer func() {
		close(stopRecorder)
		<-recorderDone
	}()

	workers := p.cfg.Workers
	done := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	inFlight := 0
	// Under a backlog, claim for a quarter of the workers at a time rather than for
	// each one as it frees up: a claim is three round trips made by this one
	// goroutine, and claiming one message at a time capped delivery at a few
	// hundred a second however many workers there were.
	batch := max(1, workers/4)
	// Look at once: messages may have been queued while no worker was running.
	look := true
	poll := time.NewTicker(p.cfg.PollInterval)
	defer poll.Stop()
	outage := db.Outage{Log: p.log, What: "delivery", MinWait: outageMinWait, MaxWait: outageMaxWait}
	var pausedUntil time.Time
	for {
		if look && (workers-inFlight >= batch || inFlight == 0) && ctx.Err() == nil && !time.Now().Before(pausedUntil) {
			free := workers - inFlight
			jobs, err := p.claim(ctx, free)
			switch {
			case err != nil && db.IsUnavailable(err):
				pausedUntil = time.Now().Add(outage.Failed(err))
			case err != nil:
				p.log.Error("claim deliveries", "err", err)
			default:
				outage.Recovered()
			}
			// A full claim suggests more are waiting; a short one drained the queue.
			look = len(jobs) == free
			for _, j := range jobs {
				inFlight++
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.deliver(ctx, j)
					done <- struct{}{}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			look = true
			pausedUntil = time.Time{}
		case <-poll.C:
			look = true
		case <-done:
			inFlight--
			// Count every worker that has finished meanwhile.
			for more := true; more; {
				select {
				case <-done:
					inFlight--
				default:
					more = false
				}
			}
		}
	}
}

// listen wakes the dispatcher on every NOTIFY of db.DeliveriesChannel, through one
// connection of its own. pgdriver's Listener reconnects by itself; notifications
// sent while it is away are lost, which the poll makes up for.
func (p *Pool) listen() (stop func()) {
	ln := pgdriver.NewListener(p.cfg.DB)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := ln.Listen(ctx, db.DeliveriesChannel); err != nil {
		p.log.Warn("cannot LISTEN for new deliveries yet; polling until the listener reconnects", "err", err)
	}
	cancel()
	notes := ln.Channel()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for n := range notes {
			if n.Channel == db.DeliveriesChannel {
				p.poke()
			}
		}
	}()
	return func() {
		_ = ln.Close()
		<-finished
	}
}

// job is one claimed delivery with what sending it needs; out is nil when the
// message is gone.
type job struct {
	d   *db.Delivery
	out *db.Outbound
}

// claimTimeout bounds the claim and the load of one batch, so a database that stops
// answering pauses the pool soon rather than after a socket timeout.
const claimTimeout = 10 * time.Second

// claim takes up to n due deliveries and loads their messages. The claim and the
// load run to completion even when ctx is cancelled meanwhile, so no row is left
// claimed by a worker that never looks at it; an error claims nothing.
func (p *Pool) claim(ctx context.Context, n int) ([]job, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(claimTimeout, p.cfg.Lease/2))
	defer cancel()
	ds, err := db.ClaimDeliveries(ctx, p.cfg.DB, n, p.cfg.Lease)
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
			if rerr := db.ReleaseDelivery(ctx, p.cfg.DB, d.MessageID, d.Attempts); rerr != nil {
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
