// Package ratelimit counts attempts per key in a sliding window (login and signup
// attempts per client address and email).
package ratelimit

import (
	"sync"
	"time"
)

// Limiter allows at most Limit events per key in any Window. A zero Limit allows all.
// It is per process: behind a load balancer each instance counts its own share.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	events map[string][]time.Time
	sweep  time.Time
}

// New returns a limiter of limit events per window; limit 0 turns it off.
func New(limit int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: window, now: now, events: map[string][]time.Time{}}
}

// Allow records an event for key and reports whether it is within the limit. It
// also returns how long until the next event would be allowed.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.limit <= 0 {
		return true, 0
	}
	now := l.now()
	cutoff := now.Add(-l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > l.window {
		for k, ts := range l.events {
			if len(ts) == 0 || !ts[len(ts)-1].After(cutoff) {
				delete(l.events, k)
			}
		}
		l.sweep = now
	}
	ts := l.events[key]
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.limit {
		l.events[key] = ts
		return false, ts[0].Add(l.window).Sub(now)
	}
	l.events[key] = append(ts, now)
	return true, 0
}
