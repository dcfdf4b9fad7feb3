package jobs

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential retry schedule: Base after the first failed attempt,
// doubling with each attempt up to Max, each wait spread by ±Jitter (0.2 is ±20 %)
// so that jobs that failed together do not retry in step.
type Backoff struct {
	// Base is the wait after the first failed attempt.
	Base time.Duration
	// Max caps the wait.
	Max time.Duration
	// Jitter is the fraction by which a wait may vary either way (0: none).
	Jitter float64
}

// Delay is the wait after the given attempt (1 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d = time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*rand.Float64()))
	}
	return d
}
