package resolvers

import (
	"context"
	"errors"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// The events subscription reads the event log, never the bus's payloads: a
// notification of the company only wakes it, and it reads the log after the last
// position it sent (wakes coalesce). So there is no hand-over between a replay and
// a live stream to get wrong: it attaches to the bus first, then reads from its
// cursor; whatever commits later wakes it; whatever it reads comes after what it
// sent. A gap of the listener (OnGap) or a drop by the bus is one more wake, not
// the end of the subscription.

// eventBatch is how many events one read of the log brings.
const eventBatch = 500

// Waits of a subscription whose next events are committed but not final yet (an
// older transaction is still running) or whose read failed.
const (
	minEventRetry = 10 * time.Millisecond
	maxEventRetry = time.Second
)

// eventWaker wakes one events subscription: attached to the company's events on
// the bus and to its gaps.
type eventWaker struct {
	bus       *events.Bus
	companyID int64
	wake      chan struct{}
	sub       *events.Subscription
	stopGap   func()
}

func newEventWaker(bus *events.Bus, companyID int64) *eventWaker {
	w := &eventWaker{bus: bus, companyID: companyID, wake: make(chan struct{}, 1)}
	w.stopGap = bus.OnGap(w.poke)
	w.attach()
	return w
}

// poke wakes the subscription; it never blocks.
func (w *eventWaker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// attach (again, after the bus dropped it) follows the company's events.
func (w *eventWaker) attach() {
	w.sub = w.bus.Attach(w.companyID, func(*events.Event) bool {
		w.poke()
		return true
	}, nil)
}

func (w *eventWaker) close() {
	w.stopGap()
	w.sub.Close()
}

// SubscribeEvents streams the caller's company's events after the cursor after
// (from the head when nil), oldest first: what was missed, then what happens,
// each once. An expired or malformed cursor is refused at once.
func (r *Resolver) SubscribeEvents(ctx context.Context, after *string) (<-chan *db.Event, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if r.Bus == nil {
		return nil, apperr.New(apperr.Unavailable, "live updates are not available")
	}
	var pos db.Position
	if after != nil {
		if pos, err = ParseEventCursor(*after); err != nil {
			return nil, err
		}
	}
	release, err := countSubscription(ctx)
	if err != nil {
		return nil, err
	}
	// Woken by everything that commits from now on: then the head, or the first
	// read, sees everything that committed before.
	w := newEventWaker(r.Bus, p.CompanyID)
	fail := func(err error) (<-chan *db.Event, error) {
		w.close()
		release()
		return nil, err
	}
	if after == nil {
		if pos, err = db.EventsHead(ctx, r.DB, p.CompanyID); err != nil {
			return fail(err)
		}
	}
	evs, pending, err := r.eventsAfter(ctx, p.CompanyID, pos, eventBatch, after != nil)
	if err != nil {
		return fail(err)
	}
	ready := streamReady(ctx, true)
	out := make(chan *db.Event, events.SubscriptionBuffer)
	go func() {
		defer func() {
			w.close()
			close(out)
			release()
			ready()
		}()
		r.streamEvents(ctx, w, p.CompanyID, pos, evs, pending, out, ready)
	}()
	return out, nil
}

// streamEvents sends evs, then reads the log after the last one sent each time
// w wakes it, until ctx ends.
func (r *Resolver) streamEvents(ctx context.Context, w *eventWaker, companyID int64, pos db.Position,
	evs []*db.Event, pending bool, out chan<- *db.Event, ready func()) {
	retry := minEventRetry
	for {
		for _, ev := range evs {
			select {
			case out <- ev:
				ready()
				pos = ev.Position()
			case <-ctx.Done():
				return
			}
		}
		if len(evs) > 0 {
			retry = minEventRetry
		}
		if len(evs) < eventBatch {
			// Caught up: wait for a commit, or look again shortly when events
			// are committed behind a transaction still running.
			var later <-chan time.Time
			if pending {
				later = time.After(retry)
				retry = min(2*retry, maxEventRetry)
			}
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			case <-later:
			case <-w.sub.Done():
				// Dropped by the bus: follow again, and read what came meanwhile.
				w.attach()
			}
		}
		// A reader that is replaying may be overtaken by the retention; one that
		// was caught up is past anything it removes.
		var err error
		evs, pending, err = r.eventsAfter(ctx, companyID, pos, eventBatch, len(evs) == eventBatch)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errCursorExpired):
			// The retention overtook a slow reader: ending the subscription makes
			// the client subscribe again, and be told CURSOR_EXPIRED.
			return
		case err != nil:
			if r.Log != nil {
				r.Log.WarnContext(ctx, "read the event log; retrying", "err", err.Error(), "company_id", companyID)
			}
			evs, pending = nil, true
			retry = max(retry, 200*time.Millisecond)
		}
	}
}
