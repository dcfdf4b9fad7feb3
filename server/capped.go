package server

import "sync"

// capped counts what each key (an agent, a client address) holds on this instance,
// up to max each; max <= 0 means no cap. A nil *capped admits everything.
type capped[K comparable] struct {
	max int
	mu  sync.Mutex
	n   map[K]int
}

func newCapped[K comparable](max int) *capped[K] {
	return &capped[K]{max: max, n: map[K]int{}}
}

// acquire counts one for k; false when k holds max already.
func (c *capped[K]) acquire(k K) bool {
	if c == nil || c.max <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k] >= c.max {
		return false
	}
	c.n[k]++
	return true
}

// release gives back one that acquire counted.
func (c *capped[K]) release(k K) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k]--; c.n[k] <= 0 {
		delete(c.n, k)
	}
}

// full reports whether k holds max already.
func (c *capped[K]) full(k K) bool {
	if c == nil || c.max <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k] >= c.max
}
