package main

import (
	"context"
	"fmt"
	"strings"
)

// teamInbox judges issue 17's target, each filtered inbox read at least as fast as
// the unfiltered conversation list in the same run, by alternation rather than by
// the single rows above (which run one after the other, 15 s apart, so a drift of
// the machine lands on one of them). Each round runs the unfiltered list before and
// after every filtered row (U A U B U C U, the filtered rows' order rotating by
// round), and a filtered row's ratio in the round is its rate over the mean of the
// two unfiltered runs around it: a drift of the host over those fifteen seconds
// cancels to first order, where comparing it with one unfiltered run up to 22 s away
// (the rounds before 2026-12-07) left ±20 % swings between the rounds of
// equal-cost rows. A row "÷ unfiltered list" gives the median of the four rounds'
// ratios; the unfiltered list judged as one of the filtered rows (aaCheck) shows
// what the comparison reads for two equal pages.
// aaCheck names the unfiltered list's run among the filtered ones.
const aaCheck = "GraphQL conversation list (A/A check)"

func (r *runner) teamInbox(ctx context.Context, t *target) error {
	db := dbName(t.dsnForServer)
	cpu := func() cpuSnap { return takeCPU(t.srv.Pid(), db) }
	base := &sideRun{fn: t.gqlConversations, cpu: cpu}
	others := []struct {
		name string
		side *sideRun
	}{
		{"conversations filtered (open, mine)", &sideRun{fn: t.gqlMyOpen, cpu: cpu}},
		{"GraphQL conversations by label", &sideRun{fn: t.gqlConversationsByLabel, cpu: cpu}},
		{"inboxCounts", &sideRun{fn: t.gqlInboxCounts, cpu: cpu}},
		// The unfiltered list judged as if it were a filtered row: an A/A check
		// of the comparison itself (its median should be ×1.00; a bias of the
		// bracketing, such as a run's cost depending on what ran before it,
		// would show here).
		{aaCheck, &sideRun{fn: t.gqlConversations, cpu: cpu}},
	}
	sides := make([]*sideRun, len(others))
	for i, o := range others {
		sides[i] = o.side
	}
	c := r.o.conc
	const rounds = 4
	logf("team inbox: %d rounds of open-mine, label, inboxCounts and the A/A check, each between two runs of the unfiltered list", rounds)
	refs, err := r.bracketed(ctx, base, sides, rounds, t.srv.alive)
	if err != nil {
		return err
	}
	// The unfiltered list's own row: its errors fail the run (its failed requests
	// would lower its rate and flatter every ratio).
	baseRow := base.row("GraphQL conversation list (alternating with the filtered rows)", c)
	baseRow.Group = "reads"
	baseRow.Note = "req/s by round " + rates(base.rps)
	r.addPeerRow(baseRow, base.errText)
	for i, o := range others {
		row := o.side.row(o.name+" ÷ unfiltered list", c)
		row.Group = "reads"
		each, median := ratios(o.side.rps, refs[i])
		parts := make([]string, len(each))
		for i, v := range each {
			parts[i] = fmt.Sprintf("×%.2f", v)
		}
		row.Measure = fmt.Sprintf("×%.2f req/s (median; rounds %s)", median, strings.Join(parts, " "))
		row.Note = "req/s by round " + rates(o.side.rps) + " (unfiltered list around it " + rates(refs[i]) + ")"
		if o.name == aaCheck {
			row.Note = "informational; " + row.Note
		} else {
			row.Target = "≥ ×1.00 the unfiltered list's req/s (alternating)"
			row.Met = met(median >= 1.0 && base.errs == 0)
		}
		r.addPeerRow(row, o.side.errText)
	}
	return nil
}

// bracketed runs rounds of base before and after each of others (B o1 B o2 … B, the
// others' order rotating by round) and returns, for each of others, the mean rate of
// the two base runs around it in each round (its reference, in others' order).
func (r *runner) bracketed(ctx context.Context, base *sideRun, others []*sideRun, rounds int, alive func() error) ([][]float64, error) {
	refs := make([][]float64, len(others))
	run := func(s *sideRun) float64 {
		before := s.cpu()
		st := runLoad(ctx, r.o.conc, r.o.warmup/2, r.o.dur/2, s.fn)
		s.add(st, before.until(s.cpu()))
		return st.RPS()
	}
	for round := range rounds {
		prev := run(base)
		for k := range others {
			i := (round + k) % len(others)
			run(others[i])
			next := run(base)
			refs[i] = append(refs[i], (prev+next)/2)
			prev = next
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		if err := alive(); err != nil {
			return nil, err
		}
	}
	return refs, nil
}
