package jobs

import (
	"log/slog"
	"time"
)

// outage is a loop's view of a database outage. The loop reports each try; outage
// logs the start of an outage once (a warning) and its end once, and says how long
// to pause before the next try: minWait, doubling up to maxWait. Without it a loop
// polling every few seconds would log an error per poll for as long as the
// database is away. It is not safe for concurrent use: one per loop.
type outage struct {
	log              *slog.Logger
	what             string
	minWait, maxWait time.Duration

	since time.Time
	wait  time.Duration
}

// failed records a try that failed because the database is unavailable and
// returns how long to pause before the next one.
func (o *outage) failed(err error) time.Duration {
	if o.since.IsZero() {
		o.since = time.Now()
		o.wait = o.minWait
		o.log.Warn(o.what+": database unavailable; pausing until it is back", "err", err.Error(), "retry_in", o.wait.String())
		return o.wait
	}
	o.wait = min(o.wait*2, o.maxWait)
	o.log.Debug(o.what+": database still unavailable", "err", err.Error(), "retry_in", o.wait.String())
	return o.wait
}

// recovered records a try that reached the database; after an outage it logs that
// work resumes and how long the pause lasted.
func (o *outage) recovered() {
	if o.since.IsZero() {
		return
	}
	o.log.Info(o.what+": database reachable again; resuming", "paused_for", time.Since(o.since).Round(time.Millisecond).String())
	o.since = time.Time{}
}
