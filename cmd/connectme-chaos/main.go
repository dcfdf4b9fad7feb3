// Command connectme-chaos injects faults into a running CONNECTME and counts what
// survived: it starts a private PostgreSQL 15 cluster (initdb and pg_ctl as the
// postgres OS user, its own port and data directory), builds and runs the real
// server binary against a fake Twilio that fails, stalls and cuts connections on
// purpose, and reports for each experiment how many messages were sent, stored,
// delivered once, duplicated and lost (webhook-kill: the same for outgoing
// webhooks, at least once). `make chaos` runs it. It exits non-zero when
// anything acknowledged was lost, a bad input got a 5xx, or (by default) a message
// reached the provider twice.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

// experiment runs one fault scenario against the shared env.
type experiment struct {
	name string
	run  func(ctx context.Context, e *env) (*result, error)
}

// options are the command-line flags.
type options struct {
	experiments string
	n           int
	seed        uint64
	timeout     time.Duration
	stall       time.Duration
	outage      time.Duration
	pgPort      int
	slow        slowSettings
	callbacks   bool
	failOnDup   bool
	keep        bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("connectme-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.experiments, "experiments", "all", "comma-separated experiments: "+strings.Join(names(), ", ")+", or all")
	fs.IntVar(&o.n, "n", 300, "messages sent per experiment")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the provider's misbehaviour")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "how long an experiment waits for the outbox to drain (the kill leaves claims leased for 1 min)")
	fs.DurationVar(&o.stall, "stall", 16*time.Second, "how long the provider holds a stalled request (longer than our client's 15 s timeout)")
	fs.DurationVar(&o.outage, "outage", 8*time.Second, "how long PostgreSQL is down in db-outage")
	fs.IntVar(&o.pgPort, "pg-port", 55432, "port of the private PostgreSQL cluster")
	fs.IntVar(&o.slow.Conns, "slow-conns", 20, "connections trickling a body in slow-clients")
	fs.IntVar(&o.slow.MaxConcurrent, "slow-max-concurrent", 16, "the server's MAX_CONCURRENT_REQUESTS in slow-clients")
	fs.DurationVar(&o.slow.Every, "slow-every", 2*time.Second, "pause between two trickled bytes")
	fs.DurationVar(&o.slow.For, "slow-for", 15*time.Second, "how long slow-clients measures")
	fs.BoolVar(&o.callbacks, "callbacks", true, "the provider posts signed sent/delivered status callbacks")
	fs.BoolVar(&o.failOnDup, "fail-on-duplicates", true, "a message the provider took twice fails the run")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (cluster data and logs) for inspection")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	exps, err := pick(o)
	if err != nil || o.n < 10 {
		fmt.Fprintln(stderr, "connectme-chaos:", err, "(and -n must be at least 10)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := runAll(ctx, o, exps, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "connectme-chaos:", err)
		return 1
	}
	if failed {
		fmt.Fprintln(stdout, "chaos: FAIL")
		return 1
	}
	fmt.Fprintln(stdout, "chaos: ok")
	return 0
}

// all lists the experiments in the order they run.
func all(o options) []experiment {
	return []experiment{
		{"flaky-provider", flakyProvider},
		{"kill-9", kill9},
		{"webhook-kill", webhookKill},
		{"db-outage", func(ctx context.Context, e *env) (*result, error) { return dbOutage(ctx, e, o.outage) }},
		{"slow-clients", func(ctx context.Context, e *env) (*result, error) { return slowClients(ctx, e, o.slow) }},
		{"bad-input", badInput},
	}
}

func names() []string {
	var out []string
	for _, x := range all(options{}) {
		out = append(out, x.name)
	}
	return out
}

// pick returns the experiments the -experiments flag names, in run order.
func pick(o options) ([]experiment, error) {
	if o.experiments == "all" || o.experiments == "" {
		return all(o), nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(o.experiments, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(names(), n) {
			return nil, fmt.Errorf("unknown experiment %q (know %s)", n, strings.Join(names(), ", "))
		}
		want[n] = true
	}
	var out []experiment
	for _, x := range all(o) {
		if want[x.name] {
			out = append(out, x)
		}
	}
	return out, nil
}

// runAll sets up the cluster and the binary, runs the experiments one after the
// other and tears everything down, whatever happens.
func runAll(ctx context.Context, o options, exps []experiment, stdout, stderr io.Writer) (failed bool, err error) {
	dir, err := os.MkdirTemp("", "connectme-chaos-")
	if err != nil {
		return false, err
	}
	defer func() {
		if o.keep {
			fmt.Fprintln(stderr, "chaos: kept", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	start := time.Now()
	fmt.Fprintln(stderr, "chaos: building ./cmd/connectme")
	// The experiments run the real binary, through its command line, environment
	// and HTTP API only.
	root, err := childproc.ModuleRoot()
	if err != nil {
		return false, err
	}
	bin, err := childproc.Build(ctx, root, dir)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(stderr, "chaos: private PostgreSQL 15 on 127.0.0.1:%d in %s\n", o.pgPort, dir)
	cl, err := startCluster(ctx, dir, o.pgPort)
	if cl != nil {
		defer cl.destroy()
	}
	if err != nil {
		return false, err
	}
	e := &env{cluster: cl, binary: bin, dir: dir, n: o.n, seed: o.seed, timeout: o.timeout,
		stall: o.stall, callbacks: o.callbacks, failOnDup: o.failOnDup}
	fmt.Fprintf(stdout, "chaos: n=%d seed=%d timeout=%s fail-on-duplicates=%v\n", o.n, o.seed, o.timeout, o.failOnDup)
	for _, x := range exps {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		t0 := time.Now()
		fmt.Fprintf(stderr, "chaos: %s…\n", x.name)
		res, err := x.run(ctx, e)
		if err != nil {
			fmt.Fprintf(stdout, "%-15s ERROR %v\n", x.name, err)
			failed = true
			continue
		}
		res.Fields = append(res.Fields, fmt.Sprintf("took=%s", time.Since(t0).Round(100*time.Millisecond)))
		res.print(stdout)
		if len(res.Failures) > 0 {
			failed = true
		}
	}
	fmt.Fprintf(stdout, "chaos: %d experiments in %s\n", len(exps), time.Since(start).Round(time.Second))
	return failed, nil
}
