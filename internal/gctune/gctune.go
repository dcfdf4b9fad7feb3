// Package gctune sets the garbage collector's target percentage from the live heap:
// GC_PERCENT=auto (the default), measured in BENCHMARKS.md.
//
// A GraphQL page allocates a few hundred kilobytes; with a small live heap (a
// server under read load keeps a few tens of megabytes) Go's default target of 100
// collects every few megabytes of allocation, and the collector took about a tenth
// of the server's CPU. A higher target trades memory for CPU, which is cheap while
// the live heap is small and dear when it is large (ten thousand websockets keep a
// few hundred megabytes live, and the heap may grow to (1 + percent/100) times
// that). So the target is set, every second, to let the heap grow by Headroom
// between collections, within [Floor, Ceiling]: 400 for a small heap, Go's 100 from
// a live heap of Headroom up.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Headroom is how much the heap may grow between collections.
	Headroom = 128 << 20
	// Floor is the lowest target: Go's default.
	Floor = 100
	// Ceiling is the highest: past 400 the measured gain was within noise
	// (BENCHMARKS.md).
	Ceiling = 400
)

// Percent is the target for a live heap of live bytes.
func Percent(live uint64) int {
	if live == 0 {
		return Ceiling
	}
	p := int(min(uint64(Headroom)*100/live, Ceiling))
	return max(p, Floor)
}

// Run sets the target from the live heap now and every interval until ctx ends.
func Run(ctx context.Context, interval time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := -1
	set := func() {
		metrics.Read(sample)
		var live uint64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		if p := Percent(live); p != last {
			debug.SetGCPercent(p)
			last = p
		}
	}
	set()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			set()
		}
	}
}
