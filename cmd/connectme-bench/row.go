package main

import (
	"fmt"
	"strings"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Name   string
	Group  string
	Conc   int
	N      int
	Errors int
	RPS    float64
	P50    time.Duration
	P95    time.Duration
	P99    time.Duration
	// Share is RPS as a fraction of the ceiling (0: not compared).
	Share float64
	// Measure is what the row is judged by when it is not a rate (text).
	Measure string
	// Target says what the row must meet; Met whether it did (nil: nothing to meet).
	Target string
	Met    *bool
	// ShareTarget and LatTarget/LatQ are the numbers the chart draws.
	ShareTarget float64
	LatTarget   time.Duration
	LatQ        float64
	CPU         CPUShare
	// Profile is where the server's time went, when the target was missed.
	Profile string
	Note    string
}

func (r *Row) verdict() string {
	switch {
	case r.Errors > 0:
		return "FAIL"
	case r.Met == nil:
		return ""
	case *r.Met:
		return "ok"
	}
	return "MISS"
}

func met(b bool) *bool { return &b }

// addNote appends a note to the row's, after a semicolon.
func (r *Row) addNote(s string) {
	if r.Note != "" && s != "" {
		r.Note += "; "
	}
	r.Note += s
}

// shareAndLatency judges a row by its share of the ceiling and/or a latency quantile.
func shareAndLatency(share, q float64, limit time.Duration) func(*Row) {
	return func(row *Row) {
		row.ShareTarget, row.LatQ, row.LatTarget = share, q, limit
		judgeShare(row)
	}
}

func judgeShare(row *Row) {
	var parts []string
	ok := true
	if row.ShareTarget > 0 {
		parts = append(parts, fmt.Sprintf("≥ %.0f%% of ceiling", 100*row.ShareTarget))
		ok = ok && row.Share >= row.ShareTarget
	}
	if row.LatTarget > 0 {
		parts = append(parts, fmt.Sprintf("p%.0f ≤ %s", 100*row.LatQ, ms(row.LatTarget)))
		ok = ok && latAt(row, row.LatQ) <= row.LatTarget
	}
	row.Target = strings.Join(parts, ", ")
	row.Met = met(ok)
}

func latAt(row *Row, q float64) time.Duration {
	switch q {
	case 0.5:
		return row.P50
	case 0.95:
		return row.P95
	}
	return row.P99
}

func rateTarget(rps float64) func(*Row) {
	return func(row *Row) {
		row.Target = fmt.Sprintf("≥ %s/s", thousands(rps))
		row.Met = met(row.RPS >= rps)
	}
}
