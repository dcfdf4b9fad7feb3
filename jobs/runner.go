package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/connectme/connectme/db"
)

// Waker wakes local waiters when a NOTIFY on a channel reaches this instance;
// *events.Bus is one, through the LISTEN connection it already holds.
type Waker interface {
	// Wake returns a channel that receives (coalesced) on each NOTIFY of channel
	// and when the listener reconnects; stop unregisters it.
	Wake(channel string) (c <-chan struct{}, stop func())
}

// Queue describes one kind of background work to a Runner. Zero durations and
// counts take the defaults.
type Queue[J any] struct {
	// Name names the work in logs ("delivery", "media fetcher").
	Name string
	// Claim takes up to n due jobs that no live worker holds (FOR UPDATE SKIP
	// LOCKED) and reserves them for lease. Its ctx is bounded (ClaimTimeout) but not
	// cancelled when the Runner stops, so no job is left claimed and never worked.
	Claim func(ctx context.Context, n int, lease time.Duration) ([]J, error)
	// Do works one claimed job and records its outcome. ctx is cancelled when the
	// Runner stops; Do then finishes the job or hands it back.
	Do func(ctx context.Context, job J)
	// Lease is how long a claimed job is reserved (default 1 min): a worker that
	// dies leaves its job to be claimed again after it.
	Lease time.Duration
	// Workers is how many jobs run at once (default 1).
	Workers int
	// ClaimAtLeast is how many workers must be free before the Runner claims again
	// while others are busy (default 1): under a backlog, claiming for several at a
	// time spares round trips.
	ClaimAtLeast int
	// PollInterval is how often the table is read without a wake-up (default 2 s).
	PollInterval time.Duration
	// ClaimTimeout bounds one claim (default 10 s, at most Lease/2), so a database
	// that stops answering pauses the loop soon rather than after a socket timeout.
	ClaimTimeout time.Duration
	// OutageMin and OutageMax bound the pause while the database is unavailable
	// (default 1 s doubling up to 10 s). A wake-up ends the pause at once.
	OutageMin, OutageMax time.Duration
	// Bus and Channel wake the Runner on each NOTIFY of Channel; nil or "" polls only.
	Bus     Waker
	Channel string
	// Log receives claim failures and outages; nil discards them.
	Log *slog.Logger
}

// Defaults of Queue.
const (
	DefaultLease        = time.Minute
	DefaultPollInterval = 2 * time.Second
	DefaultClaimTimeout = 10 * time.Second
	DefaultOutageMin    = time.Second
	DefaultOutageMax    = 10 * time.Second
)

// Runner runs one Queue.
type Runner[J any] struct {
	q    Queue[J]
	poke chan struct{}
}

// New returns a Runner for q; start it with Run.
func New[J any](q Queue[J]) (*Runner[J], error) {
	if q.Claim == nil || q.Do == nil {
		return nil, errors.New("jobs: Claim and Do are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&q.Lease, DefaultLease)
	def(&q.PollInterval, DefaultPollInterval)
	def(&q.ClaimTimeout, DefaultClaimTimeout)
	def(&q.OutageMin, DefaultOutageMin)
	def(&q.OutageMax, DefaultOutageMax)
	q.ClaimTimeout = min(q.ClaimTimeout, q.Lease/2)
	q.Workers = max(q.Workers, 1)
	q.ClaimAtLeast = min(max(q.ClaimAtLeast, 1), q.Workers)
	if q.Log == nil {
		q.Log = slog.New(slog.DiscardHandler)
	}
	return &Runner[J]{q: q, poke: make(chan struct{}, 1)}, nil
}

// Lease is the lease the Runner claims with.
func (r *Runner[J]) Lease() time.Duration { return r.q.Lease }

// Wake makes the Runner look for due jobs now; a wake-up already pending is as
// good as a second one.
func (r *Runner[J]) Wake() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// WakeAfter makes the Runner look again after d, when a retry it scheduled falls
// due, so the retry does not wait for the next poll.
func (r *Runner[J]) WakeAfter(d time.Duration) { time.AfterFunc(d, r.Wake) }

// Run works due jobs until ctx is cancelled, then stops claiming, waits for the
// jobs in flight and returns.
func (r *Runner[J]) Run(ctx context.Context) {
	var notified <-chan struct{}
	if r.q.Bus != nil && r.q.Channel != "" {
		c, stop := r.q.Bus.Wake(r.q.Channel)
		defer stop()
		notified = c
	}
	workers := r.q.Workers
	done := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	inFlight := 0
	out := outage{log: r.q.Log, what: r.q.Name, minWait: r.q.OutageMin, maxWait: r.q.OutageMax}
	poll := time.NewTicker(r.q.PollInterval)
	defer poll.Stop()
	resume := time.NewTimer(time.Hour)
	resume.Stop()
	defer resume.Stop()
	paused := false
	// Look at once: jobs may have been queued while no Runner was running.
	look := true
	for {
		if look && !paused && ctx.Err() == nil && (workers-inFlight >= r.q.ClaimAtLeast || inFlight == 0) {
			free := workers - inFlight
			jobs, err := r.claim(ctx, free)
			switch {
			case err != nil && db.IsUnavailable(err):
				paused = true
				resume.Reset(out.failed(err))
			case err != nil:
				r.q.Log.Error(r.q.Name+": claim failed", "err", err.Error())
			default:
				out.recovered()
			}
			// A full claim suggests more are waiting; a short one drained the table.
			look = len(jobs) == free
			for _, j := range jobs {
				inFlight++
				wg.Go(func() {
					r.q.Do(ctx, j)
					done <- struct{}{}
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-notified:
			// A notification also proves the database is back.
			look, paused = true, false
		case <-r.poke:
			look, paused = true, false
		case <-resume.C:
			look, paused = true, false
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

// claim runs the use's claim to completion even when ctx is cancelled meanwhile.
func (r *Runner[J]) claim(ctx context.Context, n int) ([]J, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.q.ClaimTimeout)
	defer cancel()
	return r.q.Claim(ctx, n, r.q.Lease)
}
