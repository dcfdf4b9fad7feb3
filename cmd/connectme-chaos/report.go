package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// result is what one experiment found.
type result struct {
	Name string
	// Sent counts sends our API acknowledged (2xx).
	Sent int
	// Stored counts the rows the database holds for the experiment's sends.
	Stored int
	// Once counts messages the provider took exactly once.
	Once int
	// Dup counts messages the provider took more than once; Extra the surplus copies.
	Dup, Extra int
	// Lost counts acknowledged sends the provider never took within the deadline.
	Lost int
	// Ghost counts sends answered with an error (or not at all) that were stored
	// anyway: a client that retries them sends twice.
	Ghost int
	// Fields are more figures for the line, "name=value".
	Fields []string
	// Notes are detail lines printed under it.
	Notes []string
	// Failures are the reasons this experiment fails the run.
	Failures []string
}

// tally counts the outcome of a set of sends. attempted are the bodies we tried to
// send, acked those our API acknowledged, stored the rows per body in the
// database, taken how often the provider took each body.
func tally(r *result, attempted []string, acked map[string]bool, stored, taken map[string]int) (lost, dup []string) {
	for _, b := range attempted {
		n := taken[b]
		if acked[b] {
			r.Sent++
		} else if stored[b] > 0 {
			r.Ghost++
		}
		r.Stored += stored[b]
		switch {
		case n == 1:
			r.Once++
		case n > 1:
			r.Dup++
			r.Extra += n - 1
			dup = append(dup, b)
		case acked[b]:
			r.Lost++
			lost = append(lost, b)
		}
	}
	return lost, dup
}

// judge records why the result fails the run: anything lost, and duplicates when
// they count as failures.
func (r *result) judge(failOnDup bool, lost, dup []string) {
	if r.Lost > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d acknowledged messages never reached the provider: %s", r.Lost, sample(lost)))
	}
	if r.Dup > 0 {
		msg := fmt.Sprintf("%d messages reached the provider more than once (%d extra copies): %s", r.Dup, r.Extra, sample(dup))
		if failOnDup {
			r.Failures = append(r.Failures, msg)
		} else {
			r.Notes = append(r.Notes, msg)
		}
	}
}

// sample names a few items of a list.
func sample(items []string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + fmt.Sprintf(", … (%d more)", len(s)-5)
	}
	return strings.Join(s, ", ")
}

// line is the experiment's one-line summary.
func (r *result) line() string {
	s := fmt.Sprintf("%-15s sent=%-4d stored=%-4d once=%-4d duplicated=%-3d lost=%-3d", r.Name, r.Sent, r.Stored, r.Once, r.Dup, r.Lost)
	if r.Ghost > 0 {
		s += fmt.Sprintf(" stored-unacknowledged=%d", r.Ghost)
	}
	if len(r.Fields) > 0 {
		s += " " + strings.Join(r.Fields, " ")
	}
	if len(r.Failures) > 0 {
		s += "  FAIL"
	}
	return s
}

// print writes the line, its notes and its failures.
func (r *result) print(w io.Writer) {
	fmt.Fprintln(w, r.line())
	for _, n := range r.Notes {
		fmt.Fprintln(w, "    "+n)
	}
	for _, f := range r.Failures {
		fmt.Fprintln(w, "    FAIL: "+f)
	}
}

// codes counts HTTP answers by class; 0 is no answer (timeout, refused, reset).
type codes struct {
	OK, C4xx, C503, C5xx, None int
}

// add counts one answer.
func (c *codes) add(code int) {
	switch {
	case code == 0:
		c.None++
	case code < 400:
		c.OK++
	case code < 500:
		c.C4xx++
	case code == 503:
		c.C503++
	default:
		c.C5xx++
	}
}

// fields formats the counts with a prefix, e.g. "in.2xx=10 in.503=3".
func (c codes) fields(prefix string) []string {
	return []string{fmt.Sprintf("%s2xx=%d", prefix, c.OK), fmt.Sprintf("%s4xx=%d", prefix, c.C4xx),
		fmt.Sprintf("%s503=%d", prefix, c.C503), fmt.Sprintf("%s5xx=%d", prefix, c.C5xx),
		fmt.Sprintf("%snoanswer=%d", prefix, c.None)}
}
