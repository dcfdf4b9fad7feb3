package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// peerRounds is how many times each query alternates between ours and the peer.
const peerRounds = 5

// peerTarget is issue 20's: our GraphQL at twice PostGraphile's rate.
const peerTarget = 2.0

// cpuTarget is issue 20's other: a GraphQL page's server CPU per request at most
// this many times its REST twin's.
const cpuTarget = 1.3

// sideRun accumulates one contender's runs of one query over the rounds.
type sideRun struct {
	fn      attempt
	cpu     func() cpuSnap
	lat     []time.Duration
	n, errs int
	elapsed time.Duration
	rps     []float64
	// cpuPerReq is the server's CPU seconds per request, by round.
	cpuPerReq []float64
	cpuSum    CPUShare
	errText   string
}

func (s *sideRun) add(st *Stats, cpu CPUShare) {
	s.lat = append(s.lat, st.lat...)
	s.n, s.errs, s.elapsed = s.n+st.N, s.errs+st.Errors, s.elapsed+st.Elapsed
	s.rps = append(s.rps, st.RPS())
	if rps := st.RPS(); rps > 0 {
		s.cpuPerReq = append(s.cpuPerReq, cpu.Server/rps)
	}
	s.cpuSum = CPUShare{Server: s.cpuSum.Server + cpu.Server, Postgres: s.cpuSum.Postgres + cpu.Postgres,
		Client: s.cpuSum.Client + cpu.Client, Machine: s.cpuSum.Machine + cpu.Machine}
	if st.Errors > 0 && s.errText == "" {
		s.errText = st.ErrorText()
	}
}

// row summarises the rounds: pooled latencies, the rate over all measured time,
// the mean CPU split.
func (s *sideRun) row(name string, conc int) *Row {
	slices.Sort(s.lat)
	k := float64(max(len(s.rps), 1))
	row := &Row{Name: name, Group: "peer", Conc: conc, N: s.n, Errors: s.errs,
		P50: quantile(s.lat, 0.5), P95: quantile(s.lat, 0.95), P99: quantile(s.lat, 0.99),
		CPU: CPUShare{Server: s.cpuSum.Server / k, Postgres: s.cpuSum.Postgres / k, Client: s.cpuSum.Client / k, Machine: s.cpuSum.Machine / k}}
	if s.elapsed > 0 {
		row.RPS = float64(s.n-s.errs) / s.elapsed.Seconds()
	}
	return row
}

// ratios returns ours ÷ peer per round and their median.
func ratios(ours, peer []float64) ([]float64, float64) {
	out := make([]float64, 0, len(ours))
	for i := range min(len(ours), len(peer)) {
		if peer[i] > 0 {
			out = append(out, ours[i]/peer[i])
		}
	}
	if len(out) == 0 {
		return nil, 0
	}
	sorted := slices.Clone(out)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return out, sorted[mid]
	}
	return out, (sorted[mid-1] + sorted[mid]) / 2
}

// alternate runs rounds of the contenders one after the other, each round starting
// with another, so all see the same background load; alive checks the servers
// after each round.
func (r *runner) alternate(ctx context.Context, order []*sideRun, rounds int, alive func() error) error {
	for round := range rounds {
		for k := range order {
			s := order[(round+k)%len(order)]
			before := s.cpu()
			st := runLoad(ctx, r.o.conc, r.o.warmup/2, r.o.dur/2, s.fn)
			s.add(st, before.until(s.cpu()))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err := alive(); err != nil {
			return err
		}
	}
	return nil
}

// sideBySide starts PostGraphile on the target's database, checks its answers and
// ours against the database, and alternates ours (GraphQL and REST) with it on the
// two reads issue 20 names. Where node or npm is missing, or npm cannot install,
// it says so and adds no peer rows; the rest of the run goes on.
func (r *runner) sideBySide(ctx context.Context, root string, t *target) error {
	if !r.o.peer {
		logf("PostGraphile side by side: skipped (-peer=false)")
		r.peer = &peerSummary{Skipped: "-peer=false"}
		return nil
	}
	p, err := startPeer(ctx, root, t.dsnForServer, max(r.o.conc, r.o.searchConc))
	if errors.Is(err, errPeerUnavailable) {
		logf("PostGraphile side by side: SKIPPED: %v", err)
		reason, _, _ := strings.Cut(err.Error(), "\n")
		r.peer = &peerSummary{Skipped: reason}
		return nil
	}
	if err != nil {
		return err
	}
	defer p.stop()
	p.sum.Rounds = peerRounds
	r.peer = p.sum
	if !r.o.runs("reads") {
		logf("checking our read answers against the database")
		if err := t.checkReads(ctx); err != nil {
			return fmt.Errorf("correctness: %w", err)
		}
	}
	logf("checking PostGraphile's answers against the database")
	if err := p.check(ctx, t); err != nil {
		return fmt.Errorf("correctness (PostGraphile): %w", err)
	}
	// With -baseline, an older binary serves the same database beside ours, and its
	// GraphQL joins the rounds.
	var old *target
	if r.o.baseline != "" {
		old = &target{bdb: t.bdb, sizes: t.sizes, srv: &server{name: "baseline"}, dsnForServer: t.dsnForServer}
		if err := r.startBinary(ctx, old, r.o.baseline, false); err != nil {
			return fmt.Errorf("baseline %s: %w", r.o.baseline, err)
		}
		defer old.srv.stop()
	}
	for _, q := range []struct {
		what, gqlName, restName string
		gql, rest, peer         attempt
		oldGQL                  func(*target) attempt
	}{
		{"messages page", "GraphQL messages page", "REST message page", t.gqlMessages, t.restMessages, p.messages(t),
			func(o *target) attempt { return o.gqlMessages }},
		{"conversation list", "GraphQL conversation list", "REST conversation list", t.gqlConversations, t.restConversations, p.conversations(t),
			func(o *target) attempt { return o.gqlConversations }},
	} {
		var oldFn attempt
		if old != nil {
			oldFn = q.oldGQL(old)
		}
		if err := r.compare(ctx, t, p, q.what, q.gqlName, q.restName, q.gql, q.rest, q.peer, old, oldFn); err != nil {
			return err
		}
	}
	return nil
}

// compare runs one query's rounds: each round runs ours (GraphQL), ours (REST) and
// the peer one after the other, starting with a different one each round, so all
// three see the same background load; then it adds the peer's row and a ratio row
// for each of ours.
func (r *runner) compare(ctx context.Context, t *target, p *peer, what, gqlName, restName string, gql, rest, peerFn attempt,
	old *target, oldGQL attempt) error {
	db := dbName(t.dsnForServer)
	ours := func() cpuSnap { return takeCPU(t.srv.Pid(), db) }
	theirs := func() cpuSnap {
		s := takeCPU(-1, db)
		s.server = groupCPU(p.pid())
		return s
	}
	g, rs, pg := &sideRun{fn: gql, cpu: ours}, &sideRun{fn: rest, cpu: ours}, &sideRun{fn: peerFn, cpu: theirs}
	order := []*sideRun{g, rs, pg}
	var og *sideRun
	if old != nil {
		og = &sideRun{fn: oldGQL, cpu: func() cpuSnap { return takeCPU(old.srv.Pid(), db) }}
		order = append(order, og)
	}
	c := r.o.conc
	logf("side by side, %s: a warm-up, then %d rounds of ours (GraphQL, REST), PostGraphile and the baseline binary if any", what, peerRounds)
	// Node compiles its hot paths while it runs and each worker prepares its
	// statements on first use: every contender gets a full warm-up before the rounds.
	for _, s := range order {
		if st := runLoad(ctx, c, 0, r.o.warmup, s.fn); st.Errors > 0 {
			s.errs += st.Errors
			s.errText = st.ErrorText()
		}
	}
	if err := r.alternate(ctx, order, peerRounds, func() error {
		if err := p.alive(); err != nil {
			return err
		}
		if err := t.srv.alive(); err != nil {
			return err
		}
		if old != nil {
			return old.srv.alive()
		}
		return nil
	}); err != nil {
		return err
	}
	peerRow := pg.row("PostGraphile "+what, c)
	peerRow.Note = fmt.Sprintf("PostGraphile %s, %d workers, no authentication; req/s by round %s", p.sum.Version, p.sum.Workers, rates(pg.rps))
	r.addPeerRow(peerRow, pg.errText)
	// The second target: the GraphQL page costs the server at most 1.3 times
	// the CPU per request of its REST twin. Like the rates, it is judged round by
	// round (the two run back to back, so they share the machine's state: this
	// machine's CPU per request drifts by a fifth between runs) and the median taken.
	cpuEach, cpuRatio := ratios(g.cpuPerReq, rs.cpuPerReq)
	cpuParts := make([]string, len(cpuEach))
	for i, v := range cpuEach {
		cpuParts[i] = fmt.Sprintf("×%.2f", v)
	}
	sides := []struct {
		side *sideRun
		name string
		gql  bool
	}{{g, gqlName, true}, {rs, restName, false}}
	if og != nil {
		sides = append(sides, struct {
			side *sideRun
			name string
			gql  bool
		}{og, gqlName + " (baseline binary)", false})
	}
	for _, s := range sides {
		row := s.side.row(s.name+" ÷ PostGraphile", c)
		each, median := ratios(s.side.rps, pg.rps)
		parts := make([]string, len(each))
		for i, v := range each {
			parts[i] = fmt.Sprintf("×%.2f", v)
		}
		row.Measure = fmt.Sprintf("×%.2f req/s (median; rounds %s); p99 %s vs PostGraphile %s",
			median, strings.Join(parts, " "), ms(row.P99), ms(peerRow.P99))
		row.Note = "req/s by round " + rates(s.side.rps) + " (PostGraphile " + rates(pg.rps) + ")"
		if s.gql {
			row.Measure += fmt.Sprintf("; server CPU/req ×%.2f REST's (median; rounds %s)", cpuRatio, strings.Join(cpuParts, " "))
			if og != nil {
				_, vsOld := ratios(g.rps, og.rps)
				row.Measure += fmt.Sprintf("; ×%.2f the baseline binary's req/s (median)", vsOld)
			}
			row.Target = fmt.Sprintf("≥ ×%.0f PostGraphile's req/s; CPU/req ≤ ×%.1f REST's", peerTarget, cpuTarget)
			row.Met = met(median >= peerTarget && cpuRatio > 0 && cpuRatio <= cpuTarget)
		} else {
			row.Note = "informational; " + row.Note
		}
		r.addPeerRow(row, s.side.errText)
	}
	return nil
}

func (r *runner) addPeerRow(row *Row, errText string) {
	r.print(row)
	if row.Errors > 0 {
		logf("  errors: %s", errText)
		r.failed = true
	}
	r.rows = append(r.rows, row)
}

func rates(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = thousands(x)
	}
	return strings.Join(parts, " / ")
}

// markdown says in the report how the peer ran, or why it did not.
func (s *peerSummary) markdown(w *strings.Builder, o *options) {
	if s == nil {
		return
	}
	if s.Skipped != "" {
		fmt.Fprintf(w, "**Side by side with PostGraphile:** skipped (%s): the PostGraphile rows are missing from this run.\n\n", s.Skipped)
		return
	}
	fmt.Fprintf(w, "**Side by side with PostGraphile %s** (Node %s; %s). The same database, the same two reads "+
		"(same rows in the same order and the same fields, each server's answers checked against SQL first), the same load "+
		"generator at %d connections. Per query, ours (GraphQL, then REST) and PostGraphile alternate in %d rounds of %s warm-up "+
		"and %s measured, each round starting with another of the three; a row \"÷ PostGraphile\" gives ours req/s divided by "+
		"PostGraphile's in the same round (median of the rounds) and both p99s. Fairness: PostGraphile runs without "+
		"authentication (the company is a query argument; it connects as the database's owner), while ours verifies the "+
		"agent's JWT and scopes every query to the agent's company; each side has %d PostgreSQL connections (ours "+
		"DB_MAX_CONNS=32; PostGraphile %d workers × %d); both share the machine's cores with PostgreSQL and the load generator, "+
		"and PostGraphile's CPU column counts its primary and workers.\n\n",
		s.Version, s.Node, s.Settings, o.conc, s.Rounds, o.warmup/2, o.dur/2, s.Workers*s.Pool, s.Workers, s.Pool)
}
