package resolvers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// MaxSubscriptionsPerSocket bounds the subscriptions one websocket may hold.
const MaxSubscriptionsPerSocket = 50

type socketKey struct{}

// socketState counts the live subscriptions of one websocket connection.
type socketState struct{ subs atomic.Int32 }

// WithSocket marks ctx as one websocket connection's, so its subscriptions are
// counted against MaxSubscriptionsPerSocket.
func WithSocket(ctx context.Context) context.Context {
	return context.WithValue(ctx, socketKey{}, &socketState{})
}

type streamKey struct{}

// Stream lets a transport serve a subscription without a goroutine waiting on its
// channel: the subscription calls Ready after each value it puts on the channel and
// once more when it closes the channel, so the transport reads it only then.
type Stream struct {
	// Ready is called from the company's event goroutine; it must not block.
	Ready     func()
	attached  bool
	resumable bool
}

// Attached reports whether the operation started a subscription that will call
// Ready (it did not if it failed, or was a query or mutation).
func (s *Stream) Attached() bool { return s.attached }

// Resumable reports whether the subscription recovers from the event listener's
// gaps by itself (it reads the event log), so the transport must not end it for
// one.
func (s *Stream) Resumable() bool { return s.resumable }

// WithStream returns ctx for one operation whose subscription reports to st.
func WithStream(ctx context.Context, st *Stream) context.Context {
	return context.WithValue(ctx, streamKey{}, st)
}

// subscribe validates a subscription request and attaches it to the bus: each
// event of the caller's company that is of kind (and of the conversation, when one
// is given) is loaded once per instance (shared by every subscriber) and handed to
// the returned channel. There is no goroutine per subscription: the company's
// goroutine in the bus does the work. The channel closes when ctx ends or when the
// subscriber falls SubscriptionBuffer events behind (gqlgen then completes it).
func subscribe[T any](r *Resolver, ctx context.Context, conversationID *string, kind events.Kind,
	load func(context.Context, events.Event) (T, bool)) (<-chan T, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if r.Bus == nil {
		return nil, apperr.New(apperr.Unavailable, "live updates are not available")
	}
	var convID int64
	if conversationID != nil {
		if convID, err = ParseID("conversationId", *conversationID); err != nil {
			return nil, err
		}
		if _, err := r.ConversationByID(ctx, convID); err != nil {
			return nil, err
		}
	}
	release, err := countSubscription(ctx)
	if err != nil {
		return nil, err
	}
	ready := streamReady(ctx, false)
	out := make(chan T, events.SubscriptionBuffer)
	deliver := func(ev *events.Event) bool {
		if ev.Kind != kind || convID != 0 && ev.ConversationID != convID {
			return true
		}
		v, ok := load(ctx, *ev)
		if !ok {
			return true
		}
		select {
		case out <- v:
			ready()
			return true
		default:
			return false
		}
	}
	sub := r.Bus.Attach(p.CompanyID, deliver, func() {
		close(out)
		release()
		ready()
	})
	context.AfterFunc(ctx, sub.Close)
	return out, nil
}

// countSubscription counts a subscription against its socket's limit; release
// uncounts it.
func countSubscription(ctx context.Context) (release func(), err error) {
	st, ok := ctx.Value(socketKey{}).(*socketState)
	if !ok {
		return func() {}, nil
	}
	if st.subs.Add(1) > MaxSubscriptionsPerSocket {
		st.subs.Add(-1)
		return nil, apperr.New(apperr.Invalid, "too many subscriptions on one connection (limit %d)", MaxSubscriptionsPerSocket)
	}
	return func() { st.subs.Add(-1) }, nil
}

// streamReady marks the operation's Stream as attached (and resumable: it replays
// what an event listener's gap lost, so the transport need not end it) and
// returns its Ready, or a no-op without a Stream.
func streamReady(ctx context.Context, resumable bool) func() {
	if st, ok := ctx.Value(streamKey{}).(*Stream); ok && st.Ready != nil {
		st.attached, st.resumable = true, resumable
		return st.Ready
	}
	return func() {}
}

// SubscribeMessages streams messages added to (kind MessageAdded) or changed in
// (MessageStatusChanged) the caller's company, optionally one conversation.
func (r *Resolver) SubscribeMessages(ctx context.Context, kind events.Kind, conversationID *string) (<-chan *db.Message, error) {
	return subscribe(r, ctx, conversationID, kind, r.eventMessage)
}

// SubscribeConversations streams the caller's company's conversations as they change.
func (r *Resolver) SubscribeConversations(ctx context.Context) (<-chan *db.Conversation, error) {
	return subscribe(r, ctx, nil, events.ConversationUpdated, r.eventConversation)
}

// eventObjects caches, per instance, the object of each recent event: a thousand
// subscribers of one company cost one query per event, not a thousand.
type eventObjects struct {
	mu      sync.Mutex
	entries map[events.Event]*eventEntry
	swept   time.Time
}

type eventEntry struct {
	once sync.Once
	at   time.Time
	msg  *db.Message
	conv *db.Conversation
}

const eventCacheTTL = 10 * time.Second

func (c *eventObjects) entry(ev events.Event) *eventEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.entries == nil {
		c.entries = map[events.Event]*eventEntry{}
	}
	if now.Sub(c.swept) > eventCacheTTL {
		for k, e := range c.entries {
			if now.Sub(e.at) > eventCacheTTL {
				delete(c.entries, k)
			}
		}
		c.swept = now
	}
	e := c.entries[ev]
	if e == nil {
		e = &eventEntry{at: now}
		c.entries[ev] = e
	}
	return e
}

func (r *Resolver) eventMessage(ctx context.Context, ev events.Event) (*db.Message, bool) {
	id, err := uuid.Parse(ev.MessageID)
	if err != nil {
		return nil, false
	}
	e := r.events.entry(ev)
	e.once.Do(func() {
		msgs, err := db.MessagesByIDs(context.WithoutCancel(ctx), r.DB, ev.CompanyID, []uuid.UUID{id})
		if err != nil || len(msgs) == 0 {
			if err != nil && r.Log != nil {
				r.Log.WarnContext(ctx, "load event message", "err", err.Error())
			}
			return
		}
		m := msgs[0]
		// A status event shows the status it announced, even if a later one landed.
		if ev.Status != "" {
			m.Status = ev.Status
		}
		e.msg = m
	})
	if e.msg == nil {
		return nil, false
	}
	cp := *e.msg
	return &cp, true
}

func (r *Resolver) eventConversation(ctx context.Context, ev events.Event) (*db.Conversation, bool) {
	e := r.events.entry(ev)
	e.once.Do(func() {
		// With its summary: contact, lastMessage and unreadCount, which the inbox
		// asks of every update, cost this one query per event and instance rather
		// than one per subscriber.
		c, err := db.ConversationWithSummary(context.WithoutCancel(ctx), r.DB, ev.CompanyID, ev.ConversationID)
		if err != nil && r.Log != nil {
			r.Log.WarnContext(ctx, "load event conversation", "err", err.Error())
		}
		e.conv = c
	})
	if e.conv == nil {
		return nil, false
	}
	cp := *e.conv
	return &cp, true
}
