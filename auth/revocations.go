package auth

import (
	"sync"
	"time"
)

// Revocations is the set of ended sessions whose access tokens may still be
// unexpired, kept in memory so that checking a token costs no database round trip.
// The business layer fills it (at start, from each NOTIFY of a revocation, and from
// the table again after the event listener missed notifications); an entry is
// dropped once every token of its session has expired. Watchers (a websocket of
// the session) are told when their session is revoked.
type Revocations struct {
	ttl time.Duration
	now func() time.Time

	mu sync.RWMutex
	// until is when each revoked session's last token expires.
	until    map[string]time.Time
	watchers map[string]map[*watcher]struct{}
	pruned   time.Time
}

type watcher struct{ fn func() }

// NewRevocations returns an empty set for tokens that live ttl; now is the clock.
func NewRevocations(ttl time.Duration, now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{ttl: ttl, now: now, until: map[string]time.Time{}, watchers: map[string]map[*watcher]struct{}{}}
}

// Has reports whether the session has been revoked. A nil set has nothing.
func (r *Revocations) Has(sessionID string) bool {
	if r == nil {
		return false
	}
	r.mu.RLock()
	_, ok := r.until[sessionID]
	r.mu.RUnlock()
	return ok
}

// Add records sessions revoked at revokedAt and tells their watchers. Sessions
// whose tokens have all expired already are not kept.
func (r *Revocations) Add(revokedAt time.Time, sessionIDs ...string) {
	if r == nil || len(sessionIDs) == 0 {
		return
	}
	now := r.now()
	until := revokedAt.Add(r.ttl)
	var fns []func()
	r.mu.Lock()
	for _, id := range sessionIDs {
		if old, ok := r.until[id]; ok && !old.Before(until) {
			continue
		}
		if until.After(now) {
			r.until[id] = until
		}
		for w := range r.watchers[id] {
			fns = append(fns, w.fn)
		}
		delete(r.watchers, id)
	}
	if now.Sub(r.pruned) > time.Minute {
		r.pruned = now
		for id, u := range r.until {
			if !u.After(now) {
				delete(r.until, id)
			}
		}
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Watch calls fn once, when the session is revoked (at once if it is already);
// stop unregisters it. fn must not block.
func (r *Revocations) Watch(sessionID string, fn func()) (stop func()) {
	if r == nil || sessionID == "" {
		return func() {}
	}
	w := &watcher{fn: fn}
	r.mu.Lock()
	if _, revoked := r.until[sessionID]; revoked {
		r.mu.Unlock()
		fn()
		return func() {}
	}
	if r.watchers[sessionID] == nil {
		r.watchers[sessionID] = map[*watcher]struct{}{}
	}
	r.watchers[sessionID][w] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watchers[sessionID], w)
		if len(r.watchers[sessionID]) == 0 {
			delete(r.watchers, sessionID)
		}
		r.mu.Unlock()
	}
}

// Len returns how many revoked sessions are kept.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.until)
}
