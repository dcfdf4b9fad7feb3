package db

import (
	"log/slog"
	"time"
)

// Outage is a background worker's view of a database outage. The worker reports
// each try; Outage logs the start of an outage once (a warning) and its end once,
// and says how long to pause before the next try: MinWait, doubling up to MaxWait.
// Without it a worker polling every few seconds would log an error per poll for as
// long as the database is away. It is not safe for concurrent use: one per loop.
type Outage struct {
	// Log receives the two lines.
	Log *slog.Logger
	// What names the worker in them ("delivery", "media fetcher").
	What string
	// MinWait and MaxWait bound the pause between tries.
	MinWait, MaxWait time.Duration

	since time.Time
	wait  time.Duration
}

// Failed records a try that failed because the database is unavailable and
// returns how long to pause before the next one.
func (o *Outage) Failed(err error) time.Duration {
	if o.since.IsZero() {
		o.since = time.Now()
		o.wait = o.MinWait
		o.Log.Warn(o.What+": database unavailable; pausing until it is back", "err", err.Error(), "retry_in", o.wait.String())
		return o.wait
	}
	o.wait = min(o.wait*2, o.MaxWait)
	o.Log.Debug(o.What+": database still unavailable", "err", err.Error(), "retry_in", o.wait.String())
	return o.wait
}

// Recovered records a try that reached the database; after an outage it logs that
// work resumes and how long the pause lasted.
func (o *Outage) Recovered() {
	if o.since.IsZero() {
		return
	}
	o.Log.Info(o.What+": database reachable again; resuming", "paused_for", time.Since(o.since).Round(time.Millisecond).String())
	o.since = time.Time{}
}

// Paused reports whether an outage is under way.
func (o *Outage) Paused() bool { return !o.since.IsZero() }
