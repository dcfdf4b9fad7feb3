package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/internal/childproc"
)

// env is what every experiment shares: the cluster, the binary and the flags.
type env struct {
	cluster   *cluster
	binary    string
	dir       string
	n         int
	seed      uint64
	timeout   time.Duration // how long an experiment waits for the outbox to drain
	stall     time.Duration
	callbacks bool
	failOnDup bool
}

// rig is one experiment's world: its own database on the private cluster, its own
// fake provider, one server process and a signed-up company.
type rig struct {
	env    *env
	name   string
	prov   *provider
	srv    *server
	api    *apiClient
	db     *sql.DB
	tenant *tenant
}

// newRig starts the provider and a server on a fresh database named after the
// experiment, and sets up the company with contacts.
func newRig(ctx context.Context, e *env, name string, plan planFunc, extra ...string) (*rig, error) {
	prov := newProvider(plan)
	prov.stallFor = e.stall
	prov.callbacks = e.callbacks
	port, err := childproc.FreePort()
	if err != nil {
		prov.close()
		return nil, err
	}
	dbName := "chaos_" + strings.ReplaceAll(name, "-", "_")
	srv, err := startServer(ctx, serverConfig{Binary: e.binary, DatabaseURL: e.cluster.url(dbName), Port: port,
		Provider: prov, MediaDir: filepath.Join(e.dir, "media-"+name), Extra: extra})
	if err != nil {
		prov.close()
		return nil, err
	}
	r := &rig{env: e, name: name, prov: prov, srv: srv, api: newAPIClient(srv.base, prov.authToken)}
	r.db = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(e.cluster.url(dbName)), pgdriver.WithTimeout(5*time.Second)))
	if r.tenant, err = setupTenant(ctx, r.api, name, 8); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// close stops the server and the provider.
func (r *rig) close() {
	r.srv.Stop(stopGrace)
	r.prov.close()
	r.db.Close()
}

// bodies returns n unique message texts for this experiment.
func (r *rig) bodies(kind string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("chaos %s %s %d seed %d", r.name, kind, i, r.env.seed)
	}
	return out
}

// rowsByBody counts the experiment's stored messages of a direction by content.
func (r *rig) rowsByBody(ctx context.Context, direction string) (map[string]int, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT content, count(*) FROM messages
		WHERE direction = $1 AND content LIKE 'chaos %' GROUP BY content`, direction)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var body string
		var n int
		if err := rows.Scan(&body, &n); err != nil {
			return nil, err
		}
		out[body] = n
	}
	return out, rows.Err()
}

// statuses describes the sent messages by status, e.g. "DELIVERED=290 FAILED=2".
func (r *rig) statuses(ctx context.Context) string {
	rows, err := r.db.QueryContext(ctx, `SELECT status, count(*) FROM messages
		WHERE direction = 'SENT' GROUP BY status ORDER BY status`)
	if err != nil {
		return "statuses: " + err.Error()
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var s string
		var n int
		if rows.Scan(&s, &n) == nil {
			parts = append(parts, fmt.Sprintf("%s=%d", s, n))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no messages sent")
	}
	return "statuses: " + strings.Join(parts, " ")
}

// drain waits until the outbox is empty and the provider has no request in hand,
// or the experiment's deadline passes. It reports whether the outbox drained.
func (r *rig) drain(ctx context.Context) (bool, time.Duration) {
	start := time.Now()
	deadline := start.Add(r.env.timeout)
	for {
		var queued int
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.db.QueryRowContext(qctx, `SELECT count(*) FROM deliveries`).Scan(&queued)
		cancel()
		if err == nil && queued == 0 && r.prov.busy() == 0 {
			return true, time.Since(start)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, time.Since(start)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// finish waits for the outbox, then counts what was sent against what was stored
// and what the provider took.
func (r *rig) finish(ctx context.Context, res *result, attempted []string, acked map[string]bool) error {
	drained, took := r.drain(ctx)
	if !drained {
		res.Notes = append(res.Notes, fmt.Sprintf("the outbox did not drain within %s", r.env.timeout))
	}
	stored, err := r.rowsByBody(ctx, "SENT")
	if err != nil {
		return fmt.Errorf("count stored messages: %w", err)
	}
	lost, dup := tally(res, attempted, acked, stored, r.prov.counts())
	res.Fields = append(res.Fields, fmt.Sprintf("drain=%s", took.Round(100*time.Millisecond)))
	res.Notes = append(res.Notes, r.prov.summary(), r.statuses(ctx))
	if r.srv.Died() {
		res.Failures = append(res.Failures, "the server died:\n"+r.srv.Tail.String())
	}
	res.judge(r.env.failOnDup, lost, dup)
	return nil
}

// sendAll sends the bodies through POST /message with workers at once, to the
// contacts in turn, and returns the acknowledged ones and the answers' classes.
// after is called after each answer, with its code (the kill experiment strikes
// from it, and holds back senders while the server is down).
func (r *rig) sendAll(ctx context.Context, bodies []string, workers int, after func(i, code int)) (map[string]bool, codes) {
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		cs    codes
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				code, _ := r.api.send(ctx, r.tenant.contacts[i%len(r.tenant.contacts)], bodies[i])
				mu.Lock()
				cs.add(code)
				if code == 200 {
					acked[bodies[i]] = true
				}
				mu.Unlock()
				if after != nil {
					after(i, code)
				}
			}
		}()
	}
	for i := range bodies {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return acked, cs
}

// randomPlan misbehaves at random with the given shares (of 100): failures, 429s,
// stalls and cuts; the rest is accepted.
func randomPlan(seed uint64, p500, p429, pStall, pCut int) planFunc {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(string) action {
		x := rng.IntN(100)
		switch {
		case x < p500:
			return fail500
		case x < p500+p429:
			return fail429
		case x < p500+p429+pStall:
			return stall
		case x < p500+p429+pStall+pCut:
			return cut
		}
		return accept
	}
}
