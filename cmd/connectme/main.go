// Command connectme is the CONNECTME server: `connectme serve` (the default),
// `connectme migrate`, `connectme seed`, `connectme version`.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/app"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/internal/gctune"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/seed"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "connectme:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "-h", "--help", "help":
		usage(stdout)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "connectme", version)
		return nil
	case "serve", "migrate", "seed":
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if len(args) > 1 {
		return fmt.Errorf("%s takes no arguments (configuration is by environment; see --help)", cmd)
	}
	cfg, err := config.Load(nil)
	if err != nil {
		return err
	}
	log := logging.New(stderr, app.LogLevel(cfg.LogLevel))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "migrate":
		bdb, err := app.OpenDatabase(ctx, cfg, log)
		if err != nil {
			return err
		}
		return bdb.Close()
	case "seed":
		bdb, err := app.OpenDatabase(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer bdb.Close()
		res, err := seed.Run(ctx, bdb, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Demo data ready (company %d).\nLog in with email %s and password %s\n", res.CompanyID, res.Email, res.Password)
		if len(res.Team) > 0 {
			fmt.Fprintf(stdout, "The team (same password): %s\n", strings.Join(res.Team, ", "))
		}
		return nil
	}
	return serve(ctx, cfg, log, stdout)
}

// serve builds the application and serves it until SIGINT or SIGTERM.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET is not set: using a random secret for this process; tokens stop working on restart")
	}
	if cfg.TwilioAuthToken == "" {
		log.Warn("TWILIO_AUTH_TOKEN is not set: webhooks accept unsigned calls and messages are only logged (development)")
	}
	log.Info("configuration", "config", cfg.Masked(), "version", version)
	applyGC(ctx, cfg.GCPercent, log)
	if cfg.PprofAddr != "" {
		stopPprof, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer stopPprof()
	}
	// The driver's own few log lines (a dropped listener connection) go to our JSON
	// log instead of bare stderr.
	pgdriver.Logger = pgdriverLog{log}
	a, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CONNECTME is serving on %s — GraphQL %s/graphql, playground %s/playground\n", cfg.ListenAddr, cfg.PublicBaseURL, cfg.PublicBaseURL)
	return a.Run(ctx)
}

// applyGC sets the collector's target to GC_PERCENT (auto: from the live heap,
// internal/gctune), unless the environment sets GOGC: Go has read that already,
// and an operator who sets it means it.
func applyGC(ctx context.Context, percent int, log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GOGC is set: GC_PERCENT is ignored", "GOGC", v)
		return
	}
	if percent == config.GCAuto {
		go gctune.Run(ctx, time.Second)
		return
	}
	debug.SetGCPercent(percent)
}

// pgdriverLog sends pgdriver's log lines to the JSON log as warnings.
type pgdriverLog struct{ log *slog.Logger }

// Printf implements pgdriver's logging interface.
func (l pgdriverLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "pgdriver")
}

func usage(w io.Writer) {
	fmt.Fprint(w, `connectme — the CONNECTME WhatsApp business inbox server

Usage:
  connectme [command]

Commands:
  serve     create and migrate the database if needed, then serve HTTP (default)
  migrate   create the database if missing and apply pending migrations
  seed      load the demo company, agent, contacts and conversations; prints the login
  version   print the version
  help      print this help

Environment:
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Meaning)
	}
	tw.Flush()
}
