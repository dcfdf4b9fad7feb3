// Command connectme-bench measures CONNECTME on a generated dataset (a million
// messages by default) against this machine's own ceiling: it builds and starts the
// server binary, drives it with a closed-loop load at fixed concurrency, and compares
// every scenario with the same binary's /healthz measured in the same run. It prints
// one line per scenario and, with -out, writes the table and a chart into
// BENCHMARKS.md. Run it with `make bench` (full) or `make bench-smoke` (CI).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/internal/childproc"
)

// options are the command's flags.
type options struct {
	sizes       Sizes
	dbName      string
	regen       bool
	conc        int
	searchConc  int
	dur, warmup time.Duration
	subs        int
	events      int
	smoke       bool
	out         string
	profile     bool
	profileDir  string
	strict      bool
	keep        bool
	only        string
	workers     int
	serverBin   string
	peer        bool
	baseline    string
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("connectme-bench", flag.ContinueOnError)
	fs.IntVar(&o.sizes.Companies, "companies", 10, "companies (one agent each)")
	fs.IntVar(&o.sizes.Contacts, "contacts", 10_000, "contacts")
	fs.IntVar(&o.sizes.Conversations, "conversations", 20_000, "conversations (at most 2 × contacts: WHATSAPP and SMS)")
	fs.IntVar(&o.sizes.Messages, "messages", 1_000_000, "messages")
	fs.IntVar(&o.sizes.Days, "days", 90, "days of history the messages span")
	fs.StringVar(&o.dbName, "db", "connectme_bench", "database of the dataset (the growth run uses <db>_small); created and reused")
	fs.BoolVar(&o.regen, "regen", false, "generate the dataset again even if it exists")
	fs.IntVar(&o.conc, "c", 32, "connections (closed loop) for the throughput scenarios")
	fs.IntVar(&o.searchConc, "search-c", 4, "connections for the search scenarios (an interactive, occasional query)")
	fs.DurationVar(&o.dur, "duration", 12*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up per scenario (not measured)")
	fs.IntVar(&o.subs, "subs", 10_000, "concurrent websocket subscriptions")
	fs.IntVar(&o.events, "events", 5, "events timed in the subscription scenario")
	fs.BoolVar(&o.smoke, "smoke", false, "a ten-second run on a throwaway 10k-message database (CI); writes nothing")
	fs.StringVar(&o.out, "out", "", "write the results into this Markdown file (e.g. BENCHMARKS.md) and an SVG chart beside it")
	fs.BoolVar(&o.profile, "profile", true, "when a target is missed, profile the server (pprof) during a rerun and report where the time goes")
	fs.StringVar(&o.profileDir, "profile-dir", "", "keep the CPU profiles of missed targets in this directory (default: discarded)")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 when a target is missed (errors always fail)")
	fs.BoolVar(&o.keep, "keep", false, "with -smoke: keep the throwaway databases")
	fs.StringVar(&o.only, "only", "", "comma-separated scenario groups to run: reads,peer,search,webhooks,sending,growth,subs (default all)")
	fs.IntVar(&o.workers, "delivery-workers", 128, "DELIVERY_WORKERS of the server under test (0: the server's default of 4, meant for development)")
	fs.BoolVar(&o.peer, "peer", true, "measure PostGraphile 4 side by side on the same database (the peer group; needs node and npm, skipped with a note where they are missing)")
	fs.StringVar(&o.baseline, "baseline", "", "an older server binary the peer group alternates with ours and PostGraphile, so one run shows what a change bought (GraphQL rows only)")
	fs.StringVar(&o.serverBin, "server", "", "run this server binary instead of building ./cmd/connectme (to compare two builds)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.smoke {
		o.sizes = Sizes{Companies: 2, Contacts: 100, Conversations: 200, Messages: 10_000, Days: 90}
		o.dbName = "connectme_bench_smoke_" + randomHex(4)
		o.dur, o.warmup = 400*time.Millisecond, 100*time.Millisecond
		o.subs, o.events = 200, 1
		o.out, o.profile = "", false
	}
	return o, nil
}

func (o *options) runs(group string) bool {
	if o.only == "" {
		return true
	}
	for _, g := range strings.Split(o.only, ",") {
		if strings.TrimSpace(g) == group {
			return true
		}
	}
	return false
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := 0
	func() {
		defer killAll()
		defer func() {
			if p := recover(); p != nil {
				killAll()
				panic(p)
			}
		}()
		if err := run(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "connectme-bench:", err)
			code = 1
		}
	}()
	stop()
	os.Exit(code)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errFailed marks a run whose scenarios ran but failed a check or had errors.
var errFailed = errors.New("the run failed (see above)")

func run(ctx context.Context, o *options) error {
	began := time.Now()
	raiseFileLimit()
	root, err := childproc.ModuleRoot()
	if err != nil {
		return err
	}
	baseURL := os.Getenv("DATABASE_URL")
	if baseURL == "" {
		baseURL = config.DefaultDatabaseURL
	}
	bigDSN := withDB(baseURL, o.dbName)
	smallDSN := withDB(baseURL, o.dbName+"_small")
	if o.smoke && !o.keep {
		defer func() {
			for _, dsn := range []string{bigDSN, smallDSN} {
				if err := dropDatabase(dsn); err != nil {
					logf("drop %s: %v", dbName(dsn), err)
				}
			}
		}()
	}
	if err := db.EnsureDatabase(ctx, withDB(baseURL, "postgres")); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}

	logf("dataset: %d companies, %d contacts, %d conversations, %d messages over %d days",
		o.sizes.Companies, o.sizes.Contacts, o.sizes.Conversations, o.sizes.Messages, o.sizes.Days)
	if _, err := ensureDataset(ctx, bigDSN, o.sizes, o.regen, logf); err != nil {
		return err
	}
	small := o.sizes.Scaled(10)
	if o.runs("growth") {
		if _, err := ensureDataset(ctx, smallDSN, small, o.regen, logf); err != nil {
			return err
		}
	}

	tmp, err := os.MkdirTemp("", "connectme-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.serverBin
	if bin == "" {
		logf("building ./cmd/connectme")
		if bin, err = childproc.Build(ctx, root, tmp); err != nil {
			return err
		}
	}
	provider := newFakeProvider()
	defer provider.close()
	r := &runner{o: o, bin: bin, tmp: tmp, provider: provider, jwt: randomHex(32), run: randomHex(4)}

	big, err := r.open(ctx, "server", bigDSN, o.sizes)
	if err != nil {
		return err
	}
	defer big.close()
	if err := resetDataset(ctx, big); err != nil {
		return err
	}
	if err := r.start(ctx, big, o.profile); err != nil {
		return err
	}
	env, err := machine(ctx, big.bdb)
	if err != nil {
		return err
	}
	logf("machine: %s", env.summary())
	if err := r.scenarios(ctx, big); err != nil {
		return err
	}
	if o.runs("peer") {
		// After the write scenarios, as autovacuum would (it is off here), so the side
		// by side rounds read the same kind of tables as the reads group.
		if err := vacuum(ctx, big); err != nil {
			return err
		}
		if err := r.sideBySide(ctx, root, big); err != nil {
			return err
		}
	}
	if o.runs("growth") {
		sm, err := r.open(ctx, "server-small", smallDSN, small)
		if err != nil {
			return err
		}
		defer sm.close()
		if err := resetDataset(ctx, sm); err != nil {
			return err
		}
		if err := r.start(ctx, sm, false); err != nil {
			return err
		}
		err = r.growth(ctx, sm, big)
		sm.srv.stop()
		if err != nil {
			return err
		}
	}
	big.srv.stop()
	if o.runs("subs") {
		// A fresh process, so its memory before and after counts subscriptions only.
		if err := r.start(ctx, big, o.profile); err != nil {
			return err
		}
		if err := r.subscriptions(ctx, big); err != nil {
			return err
		}
		big.srv.stop()
		if err := r.start(ctx, big, false); err != nil {
			return err
		}
		if err := r.spaSubscriptions(ctx, big); err != nil {
			return err
		}
		big.srv.stop()
	}

	rep := &report{env: env, ceiling: r.ceilingRPS(), rows: r.rows, o: o, took: time.Since(began), command: commandLine(o), peer: r.peer}
	rep.print(os.Stdout)
	if o.out != "" {
		if err := rep.write(o.out); err != nil {
			return err
		}
		logf("wrote %s and %s", o.out, chartPath(o.out))
	}
	logf("done in %s", time.Since(began).Round(time.Second))
	if r.failed || rep.errors() > 0 {
		return errFailed
	}
	if o.strict && rep.missed() > 0 {
		return fmt.Errorf("%d targets missed", rep.missed())
	}
	return nil
}

// withDB returns dsn with its database replaced.
func withDB(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

// commandLine is the command as the reader can repeat it.
func commandLine(o *options) string {
	if len(os.Args) <= 1 || o.smoke {
		if o.smoke {
			return "make bench-smoke"
		}
		return "go run ./cmd/connectme-bench"
	}
	return "go run ./cmd/connectme-bench " + strings.Join(os.Args[1:], " ")
}

// raiseFileLimit lifts the soft limit on open files to the hard one, for this
// process and the servers it starts (10,000 websockets are 10,000 descriptors on
// each side).
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
