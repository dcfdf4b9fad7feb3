package main

import (
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTurns reads the read-turn histograms the way the benchmark does, off the
// server's own metrics, so that a renamed series fails here.
func scrapeTurns(t *testing.T, m *metrics.Metrics) turnsSnapshot {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	snap, err := parseTurns(body)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestTurns_QuantilesOfARunAreItsOwn(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	// Before the run: turns that must not count.
	for range 50 {
		m.ReadTurn(900*time.Millisecond, 900*time.Millisecond)
	}
	before := scrapeTurns(t, m)
	// The run: 90 short waits and 10 long ones; every turn works 1.5 ms.
	for i := range 100 {
		wait := 3 * time.Millisecond
		if i%10 == 0 {
			wait = 35 * time.Millisecond
		}
		m.ReadTurn(wait, 1500*time.Microsecond)
	}
	after := scrapeTurns(t, m)

	wait := after[waitSeries].since(before[waitSeries])
	if wait.count() != 100 {
		t.Fatalf("the run's waits: %v, want 100", wait.count())
	}
	// Linear within the bucket, as histogram_quantile: p50 is rank 50 of the 90 in
	// (2.5, 5] ms; p99 is rank 9 of the 10 in (30, 40] ms.
	for _, c := range []struct {
		q, want float64
	}{{0.5, 0.0025 + 0.0025*50/90}, {0.99, 0.03 + 0.01*9/10}} {
		if got := wait.quantile(c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("wait p%v = %v, want %v", 100*c.q, got, c.want)
		}
	}
	// Work: all 100 in (1, 2.5] ms, so p99 is 1 + 1.5 × 0.99 ms.
	text := turnsText(before, after)
	if !strings.Contains(text, "waiting for a place p50 3.9, p99 39.0 ms") || !strings.HasSuffix(text, "p99 2.5 ms") {
		t.Errorf("turnsText = %q, want waits p50 3.9 and p99 39.0 ms and work p99 2.5 ms", text)
	}
}

func TestTurns_NothingToSay(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	m.ReadTurn(time.Millisecond, time.Millisecond)
	s := scrapeTurns(t, m)
	// Waits that all fall in the lowest bucket (0 to 1 ms) are said to be under it.
	quick := metrics.New(prometheus.NewRegistry())
	for range 10 {
		quick.ReadTurn(200*time.Microsecond, 3*time.Millisecond)
	}
	if got, want := turnsText(turnsSnapshot{}, scrapeTurns(t, quick)), "waiting for a place p50 < 1.0, p99 < 1.0 ms"; !strings.Contains(got, want) {
		t.Errorf("turnsText = %q, want it to say %q", got, want)
	}
	if got := turnsText(s, s); got != "" {
		t.Errorf("a run without turns (a write, a probe) says %q", got)
	}
	if got := turnsText(nil, s); got != "" {
		t.Errorf("without a first scrape it says %q", got)
	}
	if got := (histogram{}).quantile(0.99); got != 0 {
		t.Errorf("empty histogram's p99 = %v", got)
	}
	// Everything beyond the last finite bound: the bound, not +Inf.
	h := histogram{0.01: 0, 30: 0, math.Inf(1): 4}
	if got := h.quantile(0.5); got != 30 {
		t.Errorf("p50 of waits all over 30 s = %v, want 30", got)
	}
}

func TestTurns_BadExposition(t *testing.T) {
	for _, bad := range []string{
		waitSeries + `_bucket{le="0.01"} x`,
		waitSeries + `_bucket{le="zero"} 1`,
		waitSeries + `_bucket{le="0.01" 1`,
	} {
		if _, err := parseTurns([]byte(bad + "\n")); err == nil {
			t.Errorf("%q parsed without an error", bad)
		}
	}
}
