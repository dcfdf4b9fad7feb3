// Command connectme is the CONNECTME server: `connectme serve` (the default),
// `connectme migrate`, `connectme seed`, `connectme version`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/media"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/ratelimit"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/seed"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/twilio"
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
	log := logging.New(stderr, logLevel(cfg.LogLevel))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	bdb, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer bdb.Close()

	switch cmd {
	case "migrate":
		return nil
	case "seed":
		res, err := seed.Run(ctx, bdb, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Demo data ready (company %d).\nLog in with email %s and password %s\n", res.CompanyID, res.Email, res.Password)
		return nil
	}
	return serve(ctx, cfg, bdb, log, stdout)
}

// openMigrated creates the database if missing, connects and migrates it.
func openMigrated(ctx context.Context, cfg *config.Config, log *slog.Logger) (*bun.DB, error) {
	if err := db.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("%w\nIs PostgreSQL running? Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", err)
	}
	bdb, err := db.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	bdb.SetMaxOpenConns(cfg.DBMaxConns)
	bdb.SetMaxIdleConns(cfg.DBMaxConns)
	applied, err := db.Migrate(ctx, bdb)
	if err != nil {
		bdb.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "migrations", applied)
	}
	return bdb, nil
}

func serve(ctx context.Context, cfg *config.Config, bdb *bun.DB, log *slog.Logger, stdout io.Writer) error {
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET is not set: using a random secret for this process; tokens stop working on restart")
	}
	if cfg.TwilioAuthToken == "" {
		log.Warn("TWILIO_AUTH_TOKEN is not set: webhooks accept unsigned calls and messages are only logged (development)")
	}
	log.Info("configuration", "config", cfg.Masked(), "version", version)
	if cfg.PprofAddr != "" {
		stopPprof, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer stopPprof()
	}

	store, err := media.NewStore(cfg.MediaDir, cfg.PublicBaseURL, media.SigningKey(cfg.MediaSigningKey, cfg.JWTSecret))
	if err != nil {
		return err
	}
	store.Quota = cfg.MediaQuotaPerCompany
	// The driver's own few log lines (a dropped listener connection) go to our JSON
	// log instead of bare stderr.
	pgdriver.Logger = pgdriverLog{log}
	m := newMetrics(bdb)
	stopDelivery, err := startDelivery(ctx, cfg, bdb, store, m, log)
	if err != nil {
		return err
	}
	defer stopDelivery()

	res := &resolvers.Resolver{
		DB:          bdb,
		Tokens:      auth.NewTokens(cfg.JWTSecret, cfg.JWTTTL, nil),
		Log:         log,
		AuthLimiter: ratelimit.New(cfg.AuthRateLimit, time.Minute, nil),
		Media:       store,
		Metrics:     m,
	}
	// Login and signup attempts per client address, whatever the email.
	res.AuthAddrLimiter = ratelimit.New(cfg.AuthRateLimitPerAddr, time.Minute, nil)
	bus := events.NewBus(bdb, log)
	res.Bus = bus
	m.WatchBus(bus)
	busCtx, stopBus := context.WithCancel(context.Background())
	defer stopBus()
	go bus.Run(busCtx)

	// Inbound media are downloaded in the background until the server stops.
	fetcher := &media.Fetcher{DB: bdb, Store: store, APIBase: cfg.TwilioAPIBase,
		AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, Log: log}
	fetchDone := make(chan struct{})
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer func() { stopFetch(); <-fetchDone }()
	go func() { defer close(fetchDone); fetcher.Run(fetchCtx) }()
	srv := server.HTTPServer(cfg.ListenAddr,
		server.New(server.Deps{Config: cfg, DB: bdb, Resolver: res, Log: log, Bus: bus, Done: ctx, Metrics: m}), log)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", cfg.ListenAddr, "public_base_url", cfg.PublicBaseURL)
	fmt.Fprintf(stdout, "CONNECTME is serving on %s — GraphQL %s/graphql, playground %s/playground\n", cfg.ListenAddr, cfg.PublicBaseURL, cfg.PublicBaseURL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("shutting down: finishing in-flight sends")
	stopDelivery()
	log.Info("stopped")
	return nil
}

// startDelivery runs this instance's delivery workers: through Twilio when its
// credentials are set, else through the development provider, which only logs. The
// returned stop waits for the sends in flight, so they are recorded before the
// database closes.
func startDelivery(ctx context.Context, cfg *config.Config, bdb *bun.DB, store *media.Store, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	var provider delivery.Provider
	if cfg.TwilioAccountSID != "" && cfg.TwilioAuthToken != "" {
		provider = twilio.NewClient(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIBase)
		log.Info("delivery: sending through Twilio", "api_base", cfg.TwilioAPIBase, "workers", cfg.DeliveryWorkers)
	} else {
		provider = delivery.DevProvider{Log: log}
		log.Warn("delivery: TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set: the development provider logs messages instead of sending them",
			"workers", cfg.DeliveryWorkers)
	}
	pool, err := delivery.New(delivery.Config{
		DB: bdb, Provider: provider, Log: log, Workers: cfg.DeliveryWorkers, Metrics: m,
		StatusCallbackURL: cfg.PublicBaseURL + "/message/status",
		// The provider fetches our files through signed links; inbound files still
		// at the provider go by their source URL.
		MediaURL: func(a *db.Attachment) string {
			if a.State == db.AttachmentPending && a.SourceURL != nil {
				return *a.SourceURL
			}
			return store.URL(a.ID, time.Now())
		},
	})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pool.Run(runCtx)
	}()
	return sync.OnceFunc(func() {
		cancel()
		<-done
	}), nil
}

// newMetrics builds this process's collectors on a registry of its own, with the
// database pool's statistics and the delivery outbox read at scrape time.
func newMetrics(bdb *bun.DB) *metrics.Metrics {
	m := metrics.New(prometheus.NewRegistry())
	m.WatchDB("connectme", bdb.DB)
	m.WatchDeliveryQueue(func(ctx context.Context) (metrics.QueueStats, error) {
		s, err := db.DeliveryQueueStats(ctx, bdb)
		return metrics.QueueStats{Depth: s.Depth, Due: s.Due, OldestAge: s.OldestAge}, err
	})
	return m
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

func logLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
