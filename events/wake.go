package events

import (
	"context"

	"github.com/connectme/connectme/db"
)

// Wake returns a channel that receives whenever a NOTIFY on channel reaches this
// instance, and whenever the bus's listener (re)connects, since notifications sent
// while it was away are lost. Wake-ups coalesce (the channel holds one), so a
// waiter reads the state it is woken for, never counts wake-ups. stop unregisters
// the waiter. This is how background workers (package jobs) are woken without a
// LISTEN connection of their own; a NOTIFY is only a hint, and they poll too.
func (b *Bus) Wake(channel string) (c <-chan struct{}, stop func()) {
	w := make(chan struct{}, 1)
	b.mu.Lock()
	if b.wakers[channel] == nil {
		b.wakers[channel] = map[chan struct{}]struct{}{}
		b.wakeGen.Add(1)
		if b.connected.Load() {
			// The listener LISTENs to the new channel after its next receive: our
			// own ping makes that now rather than within pingInterval.
			go b.nudge(context.Background())
		}
	}
	b.wakers[channel][w] = struct{}{}
	b.mu.Unlock()
	return w, func() {
		b.mu.Lock()
		delete(b.wakers[channel], w)
		b.mu.Unlock()
	}
}

// wakeChannels lists the channels that have had waiters.
func (b *Bus) wakeChannels() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.wakers))
	for ch := range b.wakers {
		out = append(out, ch)
	}
	return out
}

// wake signals the waiters of channel without blocking.
func (b *Bus) wake(channel string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for w := range b.wakers[channel] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// wakeAll signals every waiter.
func (b *Bus) wakeAll() {
	for _, ch := range b.wakeChannels() {
		b.wake(ch)
	}
}

// nudge NOTIFYs this instance's ping channel, which ends the listener's wait.
func (b *Bus) nudge(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pingInterval)
	defer cancel()
	_ = db.Notify(ctx, b.db, db.Notification{Channel: b.pingChannel})
}
