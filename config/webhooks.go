package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhooks are the settings of outgoing webhooks (CONTRACT §7).
type Webhooks struct {
	// AllowPrivate lets endpoints use http and reach loopback, private and
	// link-local addresses (tests, on-premise set-ups).
	AllowPrivate bool
	// Timeout is how long a receiver has to answer an attempt.
	Timeout time.Duration
	// Workers is how many deliveries this instance makes at once.
	Workers int
	// PerEndpoint caps one endpoint's deliveries in flight, all instances together,
	// so one slow receiver cannot hold every worker.
	PerEndpoint int
	// RetrySchedule is the wait before each retry; after the last, the delivery
	// has failed.
	RetrySchedule []time.Duration
	// DisableAfter is how long an endpoint may fail without a success before it
	// is disabled.
	DisableAfter time.Duration
}

// DefaultRetrySchedule is the wait before each retry of a webhook: at least 24 h
// in all.
var DefaultRetrySchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// loadWebhooks reads the webhook settings.
func (c *Config) loadWebhooks(get func(k, def string) string) error {
	w := &c.Webhooks
	var err error
	if w.AllowPrivate, err = parseBool(get("WEBHOOK_ALLOW_PRIVATE", "false")); err != nil {
		return fmt.Errorf("WEBHOOK_ALLOW_PRIVATE: %w", err)
	}
	if w.Timeout, err = time.ParseDuration(get("WEBHOOK_TIMEOUT", "10s")); err != nil || w.Timeout <= 0 {
		return fmt.Errorf("WEBHOOK_TIMEOUT must be a positive duration such as 10s")
	}
	if w.Workers, err = strconv.Atoi(get("WEBHOOK_WORKERS", "8")); err != nil || w.Workers < 1 {
		return fmt.Errorf("WEBHOOK_WORKERS must be a whole number >= 1")
	}
	if w.PerEndpoint, err = strconv.Atoi(get("WEBHOOK_PER_ENDPOINT", "2")); err != nil || w.PerEndpoint < 1 {
		return fmt.Errorf("WEBHOOK_PER_ENDPOINT must be a whole number >= 1")
	}
	w.RetrySchedule = nil
	for _, s := range strings.Split(get("WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h"), ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			return fmt.Errorf("WEBHOOK_RETRY_SCHEDULE must be comma-separated positive durations, not %q", s)
		}
		w.RetrySchedule = append(w.RetrySchedule, d)
	}
	if w.DisableAfter, err = time.ParseDuration(get("WEBHOOK_DISABLE_AFTER", "24h")); err != nil || w.DisableAfter <= 0 {
		return fmt.Errorf("WEBHOOK_DISABLE_AFTER must be a positive duration such as 24h")
	}
	return nil
}
