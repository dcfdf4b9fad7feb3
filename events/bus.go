package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Bus receives this instance's share of every event through one LISTEN connection
// and fans it out to the local subscribers of the event's company. A subscriber that
// cannot keep up is dropped (its Done channel closes) rather than slowing the others
// or growing memory. The same connection wakes the background workers (Wake), so an
// instance holds one LISTEN connection however many kinds of work it runs.
type Bus struct {
	db  *bun.DB
	log *slog.Logger
	// pingChannel is this instance's own channel: the bus NOTIFYs it to prove the
	// LISTEN connection still delivers.
	pingChannel string

	mu sync.RWMutex
	// feeds are the companies with Attach subscribers.
	feeds map[int64]*feed
	// wakers are the waiters of each wake-up channel (Wake); wakeGen counts the
	// channels added, so the listener LISTENs to new ones without a lock per event.
	wakers  map[string]map[chan struct{}]struct{}
	wakeGen atomic.Int64
	// handlers are the OnNotify registrations of each channel.
	handlers map[string]map[*notifyHandler]struct{}

	connected atomic.Bool
	lastErr   atomic.Value // string
	received  atomic.Int64
	// lastLogged is set once an outage has been logged as a warning, and cleared
	// on reconnect.
	lastLogged atomic.Bool
	// gap is set while notifications may be getting lost (the LISTEN connection is
	// down, or has not connected yet); the reconnect clears it and tells the gap
	// watchers (OnGap).
	gap  atomic.Bool
	gaps gapWatchers
}

// Subscription is one subscriber's view of the bus (Attach).
type Subscription struct {
	bus       *Bus
	companyID int64
	done      chan struct{}
	once      sync.Once

	// feed is the company's; deliver and closed are the subscriber's. One Event
	// value is shared by every subscriber it goes to: read it, never change it.
	feed    *feed
	deliver func(*Event) bool
	closed  func()
}

// feed runs the Attach subscriptions of one company: its events queue up in order
// and one goroutine hands each to every subscriber, however many there are.
type feed struct {
	companyID int64
	queue     chan *Event
	stop      chan struct{}
	// mu is held while an event is delivered: a subscription's deliver never runs
	// after its Close has returned.
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// dropping is set once its subscribers are being dropped for a full queue.
	dropping atomic.Bool
}

// SubscriptionBuffer is how many events may wait for a subscriber before it is
// considered too slow and dropped.
const SubscriptionBuffer = 256

// Timing of the listener's health checks and reconnects. The backoff is capped at
// a second: an attempt against a database that is down costs one refused
// connection, and the listener is back within about a second of the database (the
// subscriptions it ends meanwhile wait for it, see OnGap).
const (
	pingInterval   = 5 * time.Second
	receiveTimeout = 3 * pingInterval
	minBackoff     = 100 * time.Millisecond
	maxBackoff     = time.Second
	listenTimeout  = 5 * time.Second
)

// NewBus returns a bus on db; Run starts it.
func NewBus(db *bun.DB, log *slog.Logger) *Bus {
	var b [6]byte
	_, _ = rand.Read(b[:])
	bus := &Bus{db: db, log: log, pingChannel: "connectme_ping_" + hex.EncodeToString(b[:]),
		feeds: map[int64]*feed{}, wakers: map[string]map[chan struct{}]struct{}{}}
	// Until the first LISTEN, every notification is lost.
	bus.gap.Store(true)
	return bus
}

// Attach subscribes deliver to the company's events without a goroutine or a buffer
// per subscriber: the company's goroutine calls deliver with each event, in order.
// deliver filters and converts the event and hands it on without blocking; it
// returns false when its subscriber cannot keep up, which ends the subscription.
// closed, when set, runs once when the subscription ends (Close, or dropped), after
// the last deliver.
func (b *Bus) Attach(companyID int64, deliver func(*Event) bool, closed func()) *Subscription {
	s := &Subscription{bus: b, companyID: companyID, deliver: deliver, closed: closed, done: make(chan struct{})}
	b.mu.Lock()
	f := b.feeds[companyID]
	if f == nil {
		f = &feed{companyID: companyID, queue: make(chan *Event, SubscriptionBuffer), stop: make(chan struct{}),
			subs: map[*Subscription]struct{}{}}
		b.feeds[companyID] = f
		go b.run(f)
	}
	s.feed = f
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	b.mu.Unlock()
	return s
}

// run delivers a feed's events until its last subscriber has gone.
func (b *Bus) run(f *feed) {
	for {
		select {
		case <-f.stop:
			return
		case ev := <-f.queue:
			var slow []*Subscription
			f.mu.Lock()
			for s := range f.subs {
				if !s.deliver(ev) {
					slow = append(slow, s)
				}
			}
			f.mu.Unlock()
			for _, s := range slow {
				b.log.Warn("dropping a subscriber that cannot keep up", "company_id", s.companyID)
				s.Close()
			}
		}
	}
}

// Done is closed when the subscription ends (Close, or dropped for being slow).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.detach()
		close(s.done)
		if s.closed != nil {
			s.closed()
		}
	})
}

// detach removes an Attach subscription from its feed, and the feed from the bus
// when it was the last one.
func (s *Subscription) detach() {
	f := s.feed
	f.mu.Lock()
	delete(f.subs, s)
	empty := len(f.subs) == 0
	f.mu.Unlock()
	if !empty {
		return
	}
	b := s.bus
	b.mu.Lock()
	f.mu.Lock()
	if len(f.subs) == 0 && b.feeds[f.companyID] == f {
		delete(b.feeds, f.companyID)
		close(f.stop)
	}
	f.mu.Unlock()
	b.mu.Unlock()
}

// Subscribers returns how many subscriptions are live on this instance.
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, f := range b.feeds {
		f.mu.Lock()
		n += len(f.subs)
		f.mu.Unlock()
	}
	return n
}

// Healthy reports whether the LISTEN connection is up, and the last error if not.
func (b *Bus) Healthy() (bool, string) {
	if b.connected.Load() {
		return true, ""
	}
	s, _ := b.lastErr.Load().(string)
	if s == "" {
		s = "not connected yet"
	}
	return false, s
}

// dispatch hands ev to the local subscribers of its company without blocking.
func (b *Bus) dispatch(ev *Event) {
	b.mu.RLock()
	f := b.feeds[ev.CompanyID]
	if f != nil {
		select {
		case f.queue <- ev:
			f = nil
		default: // the feed's goroutine is stuck: all its subscribers are too slow
			if !f.dropping.CompareAndSwap(false, true) {
				f = nil // being dropped already
			}
		}
	}
	b.mu.RUnlock()
	if f != nil {
		// In the background: the feed's lock is held by whatever holds it up.
		go func() {
			f.mu.Lock()
			subs := make([]*Subscription, 0, len(f.subs))
			for s := range f.subs {
				subs = append(subs, s)
			}
			f.mu.Unlock()
			b.log.Warn("dropping the subscribers of a company whose events cannot be delivered fast enough",
				"company_id", f.companyID, "subscribers", len(subs))
			for _, s := range subs {
				s.Close()
			}
			f.dropping.Store(false)
		}()
	}
}

// Run listens until ctx ends, reconnecting when the connection drops: at once, then
// with a backoff of up to maxBackoff while the database stays away. Notifications
// sent while it is disconnected are lost: that is a gap, which the reconnect tells
// the subscriptions of (OnGap), so their clients refetch; the background workers
// are woken (Wake). An outage is logged once as a warning (and each failed
// reconnect at debug level); the reconnect is logged at info.
func (b *Bus) Run(ctx context.Context) {
	backoff := time.Duration(0)
	go b.ping(ctx)
	for ctx.Err() == nil {
		err := b.listen(ctx)
		b.gap.Store(true)
		b.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		b.lastErr.Store(err.Error())
		if b.lastLogged.CompareAndSwap(false, true) {
			b.log.Warn("event listener disconnected; reconnecting", "err", err.Error(), "backoff", backoff.String())
		} else {
			b.log.Debug("event listener still disconnected", "err", err.Error(), "backoff", backoff.String())
		}
		if b.received.Swap(0) > 0 {
			// The connection worked (it delivered at least our own ping): try
			// again at once. One that breaks before delivering anything backs off,
			// so a database that drops every connection is not hammered.
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
	}
}

func (b *Bus) listen(ctx context.Context) error {
	ln := pgdriver.NewListener(b.db)
	defer ln.Close()
	// Closing the listener is what interrupts a blocked read when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	// Connecting is bounded: against a database that accepts connections but never
	// answers, the socket timeout alone would hold the bus for half a minute.
	gen := b.wakeGen.Load()
	lctx, cancel := context.WithTimeout(ctx, listenTimeout)
	err := ln.Listen(lctx, append([]string{Channel, b.pingChannel}, b.wakeChannels()...)...)
	cancel()
	if err != nil {
		return err
	}
	b.connected.Store(true)
	b.lastLogged.Store(false)
	b.log.Info("event listener connected", "channel", Channel)
	// Whatever was notified while the listener was away is lost: the subscriptions
	// are told, and every waiter looks.
	if b.gap.Swap(false) {
		b.tellGap()
	}
	b.wakeAll()
	for {
		if g := b.wakeGen.Load(); g != gen {
			// Channels added since: LISTEN again (a repeated LISTEN is a no-op).
			gen = g
			lctx, cancel := context.WithTimeout(ctx, listenTimeout)
			err := ln.Listen(lctx, b.wakeChannels()...)
			cancel()
			if err != nil {
				return err
			}
			// What was notified before the LISTEN is lost: the new waiters look.
			b.wakeAll()
		}
		ch, payload, err := ln.ReceiveTimeout(ctx, receiveTimeout)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errors.New("no notification (not even our own ping) within " + receiveTimeout.String())
			}
			return err
		}
		b.received.Add(1)
		if ch != Channel {
			b.wake(ch)
			b.handle(ch, payload)
			continue
		}
		ev, err := Decode(payload)
		if err != nil {
			b.log.Warn("ignoring a malformed event", "payload", payload)
			continue
		}
		b.dispatch(&ev)
	}
}

// ping NOTIFYs this instance's own channel, so a silent, dead LISTEN connection is
// noticed within receiveTimeout.
func (b *Bus) ping(ctx context.Context) {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.nudge(ctx)
		}
	}
}
