package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Where a read's time goes on the server: waiting for its turn to work
// (WORKING_REQUESTS) or working. The server keeps both as histograms
// (connectme_http_read_wait_seconds, connectme_http_read_work_seconds); the
// benchmark reads them before and after a measured run and reports the run's share.
// A tail made by the queue (wait) with short work says the host is short of cores
// for the rate; a tail made by the work says the page itself got slow.

const (
	waitSeries = "connectme_http_read_wait_seconds"
	workSeries = "connectme_http_read_work_seconds"
)

// histogram is a Prometheus histogram's cumulative buckets: upper bound → count.
type histogram map[float64]float64

// turnsSnapshot holds the two histograms as one scrape read them.
type turnsSnapshot map[string]histogram

// parseTurns reads the two histograms out of a Prometheus text exposition.
func parseTurns(text []byte) (turnsSnapshot, error) {
	snap := turnsSnapshot{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, series := range []string{waitSeries, workSeries} {
			rest, ok := strings.CutPrefix(line, series+`_bucket{le="`)
			if !ok {
				continue
			}
			le, value, ok := strings.Cut(rest, `"} `)
			if !ok {
				return nil, fmt.Errorf("metrics: bad bucket line %q", line)
			}
			bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
			if err != nil {
				return nil, fmt.Errorf("metrics: bad bound in %q", line)
			}
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, fmt.Errorf("metrics: bad count in %q", line)
			}
			if snap[series] == nil {
				snap[series] = histogram{}
			}
			snap[series][bound] = n
		}
	}
	return snap, sc.Err()
}

// since is what was observed between an earlier snapshot and h.
func (h histogram) since(earlier histogram) histogram {
	d := histogram{}
	for b, n := range h {
		d[b] = n - earlier[b]
	}
	return d
}

// count is how many observations h holds.
func (h histogram) count() float64 { return h[math.Inf(1)] }

// quantile estimates the q-quantile as Prometheus's histogram_quantile does:
// linearly within the bucket it falls in (the last finite bound when it falls in
// +Inf). 0 when h is empty.
func (h histogram) quantile(q float64) float64 {
	total := h.count()
	if total <= 0 {
		return 0
	}
	bounds := make([]float64, 0, len(h))
	for b := range h {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		n := h[b]
		if n >= rank {
			if math.IsInf(b, 1) {
				return lower
			}
			if n == below {
				return b
			}
			return lower + (b-lower)*(rank-below)/(n-below)
		}
		lower, below = b, n
	}
	return lower
}

// readTurns scrapes the server's read-turn histograms.
func (t *target) readTurns(ctx context.Context) (turnsSnapshot, error) {
	var buf bytes.Buffer
	status, body, err := t.http.do(ctx, &buf, "GET", "/metrics", "", nil)
	if err := expect(status, 200, body, err); err != nil {
		return nil, err
	}
	return parseTurns(body)
}

// turnsText says where the reads of a run spent their server time, from two
// snapshots; "" when the run took no turns (writes, probes) or a scrape failed.
func turnsText(before, after turnsSnapshot) string {
	if before == nil || after == nil || after[waitSeries] == nil {
		return ""
	}
	wait := after[waitSeries].since(before[waitSeries])
	work := after[workSeries].since(before[workSeries])
	if wait.count() == 0 {
		return ""
	}
	return fmt.Sprintf("on the server: waiting for a place p50 %s, p99 %s ms; working p50 %s, p99 %s ms",
		wait.quantileText(0.5), wait.quantileText(0.99), work.quantileText(0.5), work.quantileText(0.99))
}

// quantileText is the q-quantile in milliseconds, or "< b" where it falls in the
// lowest bucket (0 to b): interpolating there would invent a figure.
func (h histogram) quantileText(q float64) string {
	msq := func(s float64) string { return strconv.FormatFloat(1000*s, 'f', 1, 64) }
	lowest := math.Inf(1)
	for b := range h {
		lowest = min(lowest, b)
	}
	if h[lowest] >= q*h.count() {
		return "< " + msq(lowest)
	}
	return msq(h.quantile(q))
}
