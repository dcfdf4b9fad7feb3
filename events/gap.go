package events

import "sync"

// gapWatchers are the OnGap registrations. They have a lock of their own: every
// subscription registers one, and dispatch holds Bus.mu for each event.
type gapWatchers struct {
	mu sync.Mutex
	fn map[*gapWatch]struct{}
}

type gapWatch struct{ fn func() }

// OnGap registers fn to be told that events may have been missed, so its
// subscriber can tell its client to refetch. Notifications sent while the LISTEN
// connection is down (from the moment it breaks, or before it first connects, until
// LISTEN is established again) are lost; once the listener is listening again, fn
// runs once for that gap, on the listener's goroutine: it must not block. A
// subscription that cannot resume registers before it attaches (so an attach
// during an outage is covered) and stops when it ends. A subscription that can
// resume from a cursor (a future events(after:)) opts out by not registering: it
// replays what it missed instead of being ended.
func (b *Bus) OnGap(fn func()) (stop func()) {
	w := &gapWatch{fn: fn}
	g := &b.gaps
	g.mu.Lock()
	if g.fn == nil {
		g.fn = map[*gapWatch]struct{}{}
	}
	g.fn[w] = struct{}{}
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		delete(g.fn, w)
		g.mu.Unlock()
	}
}

// tellGap runs every registered watcher: the listener is back after a gap.
func (b *Bus) tellGap() {
	b.gaps.mu.Lock()
	fns := make([]func(), 0, len(b.gaps.fn))
	for w := range b.gaps.fn {
		fns = append(fns, w.fn)
	}
	b.gaps.mu.Unlock()
	if len(fns) > 0 {
		b.log.Info("event listener back after a gap: telling the subscriptions that events may have been missed",
			"subscriptions", len(fns))
	}
	for _, fn := range fns {
		fn()
	}
}
