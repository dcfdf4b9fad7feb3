// Package app builds the application, in one place: configuration → database →
// event bus → resolvers (the business layer) → delivery pool → media fetcher → HTTP
// handler, with the metrics that watch them. cmd/connectme (serve), the test kit
// (testkit.NewApp) and so the benchmark (which runs the connectme binary) all build it
// with New, so tests run what production runs, background work included.
//
// Lifecycle: New builds and starts nothing; Start runs the background work (bus,
// delivery, fetcher); Run also serves HTTP on the configured address until its
// context ends; Shutdown stops it all in order (websockets and HTTP requests, then
// the background work, letting sends in flight be recorded, then the bus and the
// database if the App opened it).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/media"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/ratelimit"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/twilio"
	"github.com/connectme/connectme/webhooks"
	"github.com/connectme/connectme/webhooks/dispatch"
)

// Options are what New takes beyond the configuration; the zero value is
// production's choice for each.
type Options struct {
	// DB is an open, migrated database; nil opens cfg.DatabaseURL (creating and
	// migrating it first) and closes it on Shutdown.
	DB *bun.DB
	// Log receives the application's log; nil logs JSON to stderr at cfg.LogLevel.
	Log *slog.Logger
	// Now is the business layer's clock (the 24-hour window, tokens, rate limits);
	// nil is time.Now. Background work schedules on the real time: a test clock
	// that stands still would leave it nothing ever due.
	Now func() time.Time
	// Provider sends the messages; nil is Twilio when its credentials are configured,
	// else the development provider, which only logs.
	Provider delivery.Provider
	// PollInterval is how often delivery and the fetcher read their tables without a
	// wake-up; 0 keeps their defaults (tests lengthen it to prove the wake-up).
	PollInterval time.Duration
}

// App is one instance of CONNECTME, built and ready to start.
type App struct {
	Config   *config.Config
	DB       *bun.DB
	Log      *slog.Logger
	Bus      *events.Bus
	Resolver *resolvers.Resolver
	Metrics  *metrics.Metrics
	// Delivery sends queued messages; Fetcher downloads inbound media.
	Delivery *delivery.Pool
	Fetcher  *media.Fetcher
	// Periodic runs the cleanups (app/periodic.go).
	Periodic *jobs.Runner[string]
	// Snooze wakes snoozed conversations when their time comes (app/snooze.go).
	Snooze *jobs.Runner[*db.Conversation]
	// Webhooks fans events out to webhook endpoints and sends the deliveries.
	Webhooks *dispatch.Runners
	// Handler is the whole HTTP surface (REST, GraphQL, websockets, health, metrics).
	Handler http.Handler

	ownDB bool
	// work is the business layer on the work handle, for background work.
	work *resolvers.Resolver
	// closing ends the websockets (server.Deps.Done); work runs the delivery and the
	// fetcher; bus runs the event listener.
	closing              context.Context
	closeSockets         context.CancelFunc
	sockets              *server.SocketGroup
	stopWork, stopBus    context.CancelFunc
	workDone, busDone    chan struct{}
	srv                  *http.Server
	startOnce, closeOnce sync.Once
	closeErr             error
}

// New builds the application from cfg. ctx bounds the opening of the database.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	a := &App{Config: cfg, Log: opts.Log, DB: opts.DB}
	if a.Log == nil {
		a.Log = logging.New(os.Stderr, LogLevel(cfg.LogLevel))
	}
	if a.DB == nil {
		bdb, err := OpenDatabase(ctx, cfg, a.Log)
		if err != nil {
			return nil, err
		}
		a.DB, a.ownDB = bdb, true
	}
	fail := func(err error) (*App, error) {
		if a.ownDB {
			a.DB.Close()
		}
		return nil, err
	}
	store, err := media.NewStore(cfg.MediaDir, cfg.PublicBaseURL, media.SigningKey(cfg.MediaSigningKey, cfg.JWTSecret))
	if err != nil {
		return fail(err)
	}
	store.Quota = cfg.MediaQuotaPerCompany
	a.Metrics = newMetrics(a.DB)
	// The work no request asks for (bus, delivery, fetcher) runs on a second handle
	// on the same connection pool: query hooks added to DB (a test counting a
	// request's statements) do not see it.
	work := bun.NewDB(a.DB.DB, pgdialect.New(), bun.WithDiscardUnknownColumns())
	a.Bus = events.NewBus(work, a.Log)
	a.Metrics.WatchBus(a.Bus)
	tokens := auth.NewTokens(cfg.JWTSecret, cfg.JWTTTL, opts.Now)
	// Ended sessions are refused from memory (no database round trip per request).
	tokens.Revoked = auth.NewRevocations(cfg.JWTTTL, opts.Now)
	a.Resolver = &resolvers.Resolver{
		DB:          a.DB,
		Tokens:      tokens,
		Now:         opts.Now,
		Log:         a.Log,
		AuthLimiter: ratelimit.New(cfg.AuthRateLimit, time.Minute, opts.Now),
		Bus:         a.Bus,
		Media:       store,
		Metrics:     a.Metrics,

		EventRetention: cfg.EventRetention,
	}
	// Login and signup attempts per client address, whatever the email.
	a.Resolver.AuthAddrLimiter = ratelimit.New(cfg.AuthRateLimitPerAddr, time.Minute, opts.Now)
	// The revoked sessions, loaded now and kept current by the bus once it runs.
	if err := a.Resolver.WatchRevocations(ctx); err != nil {
		return fail(fmt.Errorf("load revoked sessions: %w", err))
	}
	// Background work records its outcomes through the business layer, on the work
	// handle.
	a.work = &resolvers.Resolver{DB: work, Tokens: tokens, Now: opts.Now, Log: a.Log, Bus: a.Bus, Media: store, Metrics: a.Metrics,
		EventRetention: cfg.EventRetention}
	provider := opts.Provider
	if provider == nil {
		provider = a.defaultProvider()
	}
	a.Delivery, err = delivery.New(delivery.Config{
		DB: work, Resolver: a.work, Bus: a.Bus, Provider: provider, Log: a.Log, Workers: cfg.DeliveryWorkers, Metrics: a.Metrics,
		PollInterval:      opts.PollInterval,
		StatusCallbackURL: cfg.PublicBaseURL + "/message/status",
		// The provider fetches our files through signed links; inbound files still at
		// the provider go by their source URL.
		MediaURL: a.Resolver.AttachmentURL,
	})
	if err != nil {
		return fail(err)
	}
	a.Fetcher = &media.Fetcher{DB: work, Bus: a.Bus, Store: store, APIBase: cfg.TwilioAPIBase,
		AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, Log: a.Log,
		PollInterval: opts.PollInterval}
	if cfg.TwilioAccountSID != "" && cfg.TwilioAuthToken != "" {
		// The deployment's account: its templates are shared by every company.
		contents := &twilio.ContentClient{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
			BaseURL: cfg.TwilioContentAPIBase}
		a.Resolver.Contents, a.work.Contents = contents, contents
	}
	if a.Periodic, err = periodicRunner(work, a.work, a.Log, opts.PollInterval, cfg.TemplateSyncInterval); err != nil {
		return fail(err)
	}
	if a.Snooze, err = snoozeRunner(a.work, a.Log); err != nil {
		return fail(err)
	}
	hooks := webhookSettings(cfg)
	a.Resolver.Webhooks, a.work.Webhooks = hooks, hooks
	if a.Webhooks, err = dispatch.New(dispatch.Config{DB: work, Resolver: a.work, Bus: a.Bus, Log: a.Log,
		Workers: cfg.Webhooks.Workers, PerEndpoint: cfg.Webhooks.PerEndpoint, PollInterval: opts.PollInterval}); err != nil {
		return fail(err)
	}
	a.closing, a.closeSockets = context.WithCancel(context.Background())
	a.sockets = server.NewSocketGroup()
	a.Handler = server.New(server.Deps{Config: cfg, DB: a.DB, Resolver: a.Resolver, Log: a.Log, Bus: a.Bus,
		Done: a.closing, Sockets: a.sockets, Metrics: a.Metrics})
	return a, nil
}

// defaultProvider is Twilio when its credentials are set, else the development
// provider.
func (a *App) defaultProvider() delivery.Provider {
	cfg := a.Config
	if cfg.TwilioAccountSID != "" && cfg.TwilioAuthToken != "" {
		a.Log.Info("delivery: sending through Twilio", "api_base", cfg.TwilioAPIBase, "workers", cfg.DeliveryWorkers)
		return twilio.NewClient(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIBase)
	}
	a.Log.Warn("delivery: TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set: the development provider logs messages instead of sending them",
		"workers", cfg.DeliveryWorkers)
	return delivery.DevProvider{Log: a.Log}
}

// Start runs the background work: the event bus, the delivery pool and the media
// fetcher, until Shutdown. Calling it again does nothing.
func (a *App) Start() {
	a.startOnce.Do(func() {
		var busCtx, workCtx context.Context
		busCtx, a.stopBus = context.WithCancel(context.Background())
		workCtx, a.stopWork = context.WithCancel(context.Background())
		a.busDone, a.workDone = make(chan struct{}), make(chan struct{})
		go func() { defer close(a.busDone); a.Bus.Run(busCtx) }()
		var wg sync.WaitGroup
		wg.Go(func() { a.Delivery.Run(workCtx) })
		wg.Go(func() { a.Fetcher.Run(workCtx) })
		wg.Go(func() { a.Periodic.Run(workCtx) })
		wg.Go(func() { a.Snooze.Run(workCtx) })
		wg.Go(func() { a.Webhooks.Run(workCtx) })
		go func() { wg.Wait(); close(a.workDone) }()
	})
}

// Run starts the background work and serves HTTP on cfg.ListenAddr until ctx ends
// or the listener fails, then shuts down (within 25 s for requests in flight).
func (a *App) Run(ctx context.Context) error {
	a.Start()
	a.srv = server.HTTPServer(a.Config.ListenAddr, a.Handler, a.Log)
	errc := make(chan error, 1)
	go func() { errc <- a.srv.ListenAndServe() }()
	a.Log.Info("listening", "addr", a.Config.ListenAddr, "public_base_url", a.Config.PublicBaseURL)
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return errors.Join(serveErr, a.Shutdown(shutdownCtx))
}

// socketDrain bounds the wait for the websockets' close handshakes at shutdown:
// coder/websocket waits up to five seconds for the peer's close frame.
const socketDrain = 6 * time.Second

// Shutdown closes the websockets cleanly and finishes the HTTP requests in flight
// (within ctx), stops the background work (the sends in flight are recorded), stops
// the bus and closes the database if New opened it. Calling it again returns the
// first call's result.
func (a *App) Shutdown(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.Log.Info("shutting down: finishing in-flight requests")
		a.closeSockets()
		var errs []error
		if a.srv != nil {
			if err := a.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, fmt.Errorf("shutdown: %w", err))
			}
		}
		// The sockets' close handshakes run in the background; wait for them (a
		// peer that does not answer is cut after five seconds), so that no socket
		// ends without its close frame when the process exits. Upgrades that came
		// in meanwhile were refused (503) or closed at once.
		wctx, cancel := context.WithTimeout(ctx, socketDrain)
		if n := a.sockets.Drain(wctx); n > 0 {
			a.Log.Warn("shutting down: websockets still open after the close handshake", "open", n)
		}
		cancel()
		if a.stopWork != nil {
			a.Log.Info("shutting down: finishing in-flight sends")
			a.stopWork()
			<-a.workDone
			a.stopBus()
			<-a.busDone
		}
		if a.ownDB {
			errs = append(errs, a.DB.Close())
		}
		a.Log.Info("stopped")
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// OpenDatabase creates the database if missing, connects and migrates it.
func OpenDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*bun.DB, error) {
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

// newMetrics builds an instance's collectors on a registry of its own, with the
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

// LogLevel parses LOG_LEVEL (debug, info, warn, error; anything else is info).
func LogLevel(s string) slog.Level {
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

// webhookSettings builds what outgoing webhooks need from cfg: https is required
// in production unless WEBHOOK_ALLOW_PRIVATE=true. A claim's lease outlasts an
// attempt (the timeout) with room to record it.
func webhookSettings(cfg *config.Config) *resolvers.Webhooks {
	w := cfg.Webhooks
	policy := webhooks.Policy{AllowPrivate: w.AllowPrivate, RequireHTTPS: cfg.IsProduction()}
	return &resolvers.Webhooks{Client: webhooks.NewClient(policy, w.Timeout), RetrySchedule: w.RetrySchedule,
		DisableAfter: w.DisableAfter, Lease: 2*w.Timeout + 20*time.Second}
}
