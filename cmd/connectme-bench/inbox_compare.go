package main

import (
	"context"
	"fmt"
	"strings"
)

// teamInbox judges issue 17's target, each filtered inbox read at least as fast as
// the unfiltered conversation list in the same run, by alternation rather than by
// the single rows above (which run one after the other, 15 s apart, so a drift of
// the machine lands on one of them): in each of four rounds the unfiltered list,
// "open, mine", the label filter and inboxCounts run one after the other, each round
// starting with another, and a row "÷ unfiltered list" gives the median of the
// rounds' ratios.
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
	}
	order := []*sideRun{base}
	for _, o := range others {
		order = append(order, o.side)
	}
	c := r.o.conc
	// As many rounds as contenders: each starts one round.
	rounds := len(order)
	logf("team inbox: %d rounds of the unfiltered list, open-mine, label and inboxCounts, alternating", rounds)
	if err := r.alternate(ctx, order, rounds, t.srv.alive); err != nil {
		return err
	}
	// The unfiltered list's own row: its errors fail the run (its failed requests
	// would lower its rate and flatter every ratio).
	baseRow := base.row("GraphQL conversation list (alternating with the filtered rows)", c)
	baseRow.Group = "reads"
	baseRow.Note = "req/s by round " + rates(base.rps)
	r.addPeerRow(baseRow, base.errText)
	for _, o := range others {
		row := o.side.row(o.name+" ÷ unfiltered list", c)
		row.Group = "reads"
		each, median := ratios(o.side.rps, base.rps)
		parts := make([]string, len(each))
		for i, v := range each {
			parts[i] = fmt.Sprintf("×%.2f", v)
		}
		row.Measure = fmt.Sprintf("×%.2f req/s (median; rounds %s)", median, strings.Join(parts, " "))
		row.Note = "req/s by round " + rates(o.side.rps) + " (unfiltered list " + rates(base.rps) + ")"
		row.Target = "≥ ×1.00 the unfiltered list's req/s (alternating)"
		row.Met = met(median >= 1.0 && base.errs == 0)
		r.addPeerRow(row, o.side.errText)
	}
	return nil
}
