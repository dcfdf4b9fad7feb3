// Package config reads CONNECTME's configuration from the environment (CONTRACT §4).
package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one process.
type Config struct {
	DatabaseURL          string
	ListenAddr           string
	JWTSecret            []byte
	JWTSecretGenerated   bool
	JWTTTL               time.Duration
	AppEnv               string
	PublicBaseURL        string
	TwilioAccountSID     string
	TwilioAuthToken      string
	TwilioAPIBase        string
	MediaDir             string
	MediaSigningKey      string
	AuthRateLimit        int
	DeliveryWorkers      int
	DBMaxConns           int
	GraphQLIntrospection bool
	Playground           bool
	CORSOrigins          []string
	LogLevel             string
	// RequestTimeout bounds an ordinary request, its database calls included, so a
	// database that stops answering turns into a 503 instead of a hung client.
	RequestTimeout time.Duration
	// WSKeepAlive is how often a websocket is pinged; a client that has not
	// answered a ping by the next one is dropped.
	WSKeepAlive time.Duration
	// MaxConcurrentRequests caps the requests served at once (websockets aside);
	// 0 means no cap.
	MaxConcurrentRequests int
	// WorkingRequests is how many reads work at once (WORKING_REQUESTS): the
	// others wait their turn in arrival order. WorkAuto (0) is WorkPerCore per
	// core, -1 is off; WorkPlaces resolves it.
	WorkingRequests int
	// MetricsToken, when set, is the bearer token GET /metrics requires.
	MetricsToken string
	// PprofAddr, when set, serves net/http/pprof on this loopback address.
	PprofAddr string
	// MediaQuotaPerCompany caps the bytes of files a company's agents may upload
	// (inbound media always count but are never refused); 0 turns it off.
	MediaQuotaPerCompany int64

	// AuthRateLimitPerAddr caps login and signup attempts per minute from one client
	// address whatever the email (password spraying); 0 turns it off.
	AuthRateLimitPerAddr int
	// TrustedProxies are the peers whose X-Forwarded-For is believed; from any other
	// peer the TCP address is the client's.
	TrustedProxies []netip.Prefix

	// BodyTimeout is how long an ordinary request body may take to arrive; it is
	// read before the request takes a concurrency slot, so a trickling client holds
	// a connection, never a slot.
	BodyTimeout time.Duration
	// UploadsPerAgent caps one agent's uploads in flight (they have their own pool,
	// outside MaxConcurrentRequests); 0 means no cap.
	UploadsPerAgent int
	// WSMaxPerAgent caps one agent's open websockets; 0 means no cap.
	WSMaxPerAgent int
	// WSMaxPerAddr caps the open websockets of one client address; 0 means no cap.
	WSMaxPerAddr int
	// EventRetention is how long the event log keeps an event (at least an hour).
	EventRetention time.Duration

	// TwilioContentAPIBase is Twilio's Content API, where templates are synced from.
	TwilioContentAPIBase string
	// TemplateSyncInterval is how often templates are synced by themselves (when
	// the Twilio credentials are set).
	TemplateSyncInterval time.Duration
	// Webhooks are the settings of outgoing webhooks (webhooks.go).
	Webhooks Webhooks
	// GCPercent is the garbage collector's target percentage (debug.SetGCPercent):
	// GCAuto follows the live heap, -1 is off. The environment's GOGC, when set,
	// wins (gc.go).
	GCPercent int
}

// Var documents one environment variable for --help and the README.
type Var struct {
	Name, Default, Meaning string
}

// DefaultDatabaseURL is the database used when DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable"

// Vars lists every environment variable with its default, in --help order.
var Vars = []Var{
	{"DATABASE_URL", DefaultDatabaseURL, "PostgreSQL; the database is created if missing and migrated on start"},
	{"PORT", "8080", "HTTP port"},
	{"LISTEN_ADDR", ":$PORT", "full listen address; overrides PORT"},
	{"JWT_SECRET", "random per process (development)", "HS256 signing key, at least 32 bytes; required when APP_ENV=production"},
	{"JWT_TTL", "24h", "token lifetime (Go duration)"},
	{"APP_ENV", "development", "production makes missing secrets fatal and turns introspection/playground off unless enabled"},
	{"PUBLIC_BASE_URL", "http://localhost:$PORT", "the URL the world sees; used for webhook signatures and signed media URLs"},
	{"TWILIO_ACCOUNT_SID", "", "provider account"},
	{"TWILIO_AUTH_TOKEN", "", "provider token; with it, webhooks must be signed and messages go through Twilio"},
	{"TWILIO_API_BASE", "https://api.twilio.com", "provider API base URL (tests and staging point it at a fake)"},
	{"MEDIA_DIR", "./data/media", "where uploaded files live"},
	{"MEDIA_SIGNING_KEY", "derived from JWT_SECRET", "HMAC key of signed media links (at least 32 bytes); changing it invalidates the links given out"},
	{"AUTH_RATE_LIMIT", "10", "login and signup attempts per minute for one client address and email; 0 turns the limit off"},
	{"DELIVERY_WORKERS", "4", "messages this instance hands to the provider at once"},
	{"DB_MAX_CONNS", "32", "PostgreSQL connections this instance's pool opens at most (plus two that listen for events); all instances together must stay under the server's max_connections"},
	{"GRAPHQL_INTROSPECTION", "true in development, false in production", "GraphQL introspection"},
	{"PLAYGROUND", "true in development, false in production", "serve the GraphiQL playground at /playground"},
	{"CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API and open websockets"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"WS_KEEPALIVE", "15s", "how often websockets are pinged; a client that has not answered by the next ping is dropped (keep it under any proxy's idle timeout)"},
	{"REQUEST_TIMEOUT", "10s", "how long an ordinary request may take, database calls included; past it the answer is 503 (uploads, downloads and websockets are exempt)"},
	{"MAX_CONCURRENT_REQUESTS", "256", "requests served at once (websockets not counted); more are answered 503 at once; 0 turns the cap off"},
	{"WORKING_REQUESTS", "auto", "how many reads (REST GETs, GraphQL queries) work at once; the others wait their turn in arrival order, within REQUEST_TIMEOUT; writes never wait; auto is 4 per core (GOMAXPROCS), off lets every read work at once"},
	{"METRICS_TOKEN", "", "bearer token GET /metrics requires; empty leaves /metrics open (keep it off the public network)"},
	{"PPROF_ADDR", "", "loopback address (e.g. 127.0.0.1:6060) serving net/http/pprof for profiling; empty: off"},
	{"MEDIA_QUOTA_PER_COMPANY", "2GiB", "storage one company's files may take (bytes, or with KB, MB, GB, KiB, MiB, GiB); over it an upload is refused (413, QUOTA_EXCEEDED), while media customers send are always kept; 0 turns it off"},
	{"AUTH_RATE_LIMIT_PER_ADDR", "3 × AUTH_RATE_LIMIT", "login and signup attempts per minute from one client address, whatever the email; 0 turns the limit off"},
	{"TRUSTED_PROXIES", "", "comma-separated CIDRs (or addresses) of the load balancers and proxies in front of the server; only from them is the client address taken from X-Forwarded-For"},
	{"BODY_TIMEOUT", "10s", "how long an ordinary request body may take to arrive (it is read before the request counts against MAX_CONCURRENT_REQUESTS); slower is 408"},
	{"UPLOADS_PER_AGENT", "4", "uploads one agent may have in flight on this instance (uploads have their own pool); more are 429; 0 turns the cap off"},
	{"WS_MAX_PER_AGENT", "20", "websockets one agent may hold open on this instance; more are refused (429 at the upgrade, or closed 4429 at connection_init); 0 turns the cap off"},
	{"EVENT_RETENTION", "168h", "how long the event log keeps events (Go duration, or days such as 7d; at least 1h); a client cursor older than that gets CURSOR_EXPIRED"},
	{"WS_MAX_PER_ADDR", "100", "websockets one client address may hold open on this instance; more are refused with 429 at the upgrade; 0 turns the cap off"},
	{"TWILIO_CONTENT_API_BASE", "https://content.twilio.com", "Twilio's Content API, where syncTemplates reads the account's templates and their WhatsApp approval"},
	{"TEMPLATE_SYNC_INTERVAL", "15m", "how often the templates are synced from the Content API by themselves (on one instance at a time; only when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set)"},
	{"WEBHOOK_ALLOW_PRIVATE", "false", "let webhook endpoints use http and loopback, private or link-local addresses (tests, on-premise); otherwise they must be public, and https in production"},
	{"WEBHOOK_TIMEOUT", "10s", "how long a webhook receiver has to answer"},
	{"WEBHOOK_WORKERS", "8", "webhook deliveries this instance makes at once"},
	{"WEBHOOK_PER_ENDPOINT", "2", "deliveries in flight to one endpoint, all instances together"},
	{"WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h", "waits before each retry of a failed webhook delivery (±10 % jitter)"},
	{"WEBHOOK_DISABLE_AFTER", "24h", "an endpoint failing this long without a success is disabled"},
	{"GC_PERCENT", "auto", "the garbage collector's target: the heap may grow this many percent over the live data before a collection (Go's GOGC, whose default is 100); auto is 400 while the live heap is small and falls to 100 as it nears 128 MiB; off turns collection off but under GOMEMLIMIT; GOGC, when set, wins"},
}

// Load reads the configuration from getenv (os.Getenv when nil).
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		DatabaseURL:      get("DATABASE_URL", DefaultDatabaseURL),
		AppEnv:           get("APP_ENV", "development"),
		TwilioAccountSID: get("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:  get("TWILIO_AUTH_TOKEN", ""),
		TwilioAPIBase:    strings.TrimRight(get("TWILIO_API_BASE", "https://api.twilio.com"), "/"),
		MediaDir:         get("MEDIA_DIR", "./data/media"),
		MediaSigningKey:  getenv("MEDIA_SIGNING_KEY"),
		LogLevel:         get("LOG_LEVEL", "info"),
	}
	if c.AppEnv != "development" && c.AppEnv != "production" && c.AppEnv != "test" {
		return nil, fmt.Errorf("APP_ENV must be development, production or test, not %q", c.AppEnv)
	}
	port := get("PORT", "8080")
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, fmt.Errorf("PORT must be a port number, not %q", port)
	}
	c.ListenAddr = get("LISTEN_ADDR", ":"+port)
	c.PublicBaseURL = strings.TrimRight(get("PUBLIC_BASE_URL", "http://localhost:"+port), "/")

	retention, err := parseRetention(get("EVENT_RETENTION", "168h"))
	if err != nil {
		return nil, err
	}
	c.EventRetention = retention
	ttl, err := time.ParseDuration(get("JWT_TTL", "24h"))
	if err != nil || ttl <= 0 {
		return nil, fmt.Errorf("JWT_TTL must be a positive duration such as 24h, not %q", getenv("JWT_TTL"))
	}
	c.JWTTTL = ttl

	rl, err := strconv.Atoi(get("AUTH_RATE_LIMIT", "10"))
	if err != nil || rl < 0 {
		return nil, fmt.Errorf("AUTH_RATE_LIMIT must be a whole number >= 0, not %q", getenv("AUTH_RATE_LIMIT"))
	}
	c.AuthRateLimit = rl

	dw, err := strconv.Atoi(get("DELIVERY_WORKERS", "4"))
	if err != nil || dw < 1 {
		return nil, fmt.Errorf("DELIVERY_WORKERS must be a whole number >= 1, not %q", getenv("DELIVERY_WORKERS"))
	}
	c.DeliveryWorkers = dw

	mconns, err := strconv.Atoi(get("DB_MAX_CONNS", "32"))
	if err != nil || mconns < 2 || mconns > 1000 {
		return nil, fmt.Errorf("DB_MAX_CONNS must be a whole number from 2 to 1000, not %q", getenv("DB_MAX_CONNS"))
	}
	c.DBMaxConns = mconns

	rt, err := time.ParseDuration(get("REQUEST_TIMEOUT", "10s"))
	if err != nil || rt <= 0 {
		return nil, fmt.Errorf("REQUEST_TIMEOUT must be a positive duration such as 10s, not %q", getenv("REQUEST_TIMEOUT"))
	}
	c.RequestTimeout = rt

	ka, err := time.ParseDuration(get("WS_KEEPALIVE", "15s"))
	if err != nil || ka < 100*time.Millisecond {
		return nil, fmt.Errorf("WS_KEEPALIVE must be a duration of at least 100ms such as 15s, not %q", getenv("WS_KEEPALIVE"))
	}
	c.WSKeepAlive = ka

	mc, err := strconv.Atoi(get("MAX_CONCURRENT_REQUESTS", "256"))
	if err != nil || mc < 0 {
		return nil, fmt.Errorf("MAX_CONCURRENT_REQUESTS must be a whole number >= 0, not %q", getenv("MAX_CONCURRENT_REQUESTS"))
	}
	c.MaxConcurrentRequests = mc
	c.MetricsToken = getenv("METRICS_TOKEN")
	if err := c.loadAbuseLimits(get, getenv); err != nil {
		return nil, err
	}

	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("PUBLIC_BASE_URL must be an absolute http or https URL such as https://inbox.example.com, not %q", c.PublicBaseURL)
	}

	prod := c.IsProduction()
	if c.GraphQLIntrospection, err = parseBool(get("GRAPHQL_INTROSPECTION", strconv.FormatBool(!prod))); err != nil {
		return nil, fmt.Errorf("GRAPHQL_INTROSPECTION: %w", err)
	}
	if c.Playground, err = parseBool(get("PLAYGROUND", strconv.FormatBool(!prod))); err != nil {
		return nil, fmt.Errorf("PLAYGROUND: %w", err)
	}
	for _, o := range strings.Split(get("CORS_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}

	if err := c.loadClientLimits(get); err != nil {
		return nil, err
	}
	c.TwilioContentAPIBase = strings.TrimRight(get("TWILIO_CONTENT_API_BASE", "https://content.twilio.com"), "/")
	if u, err := url.Parse(c.TwilioContentAPIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("TWILIO_CONTENT_API_BASE must be an absolute http or https URL, not %q", c.TwilioContentAPIBase)
	}
	tsi, err := time.ParseDuration(get("TEMPLATE_SYNC_INTERVAL", "15m"))
	if err != nil || tsi < time.Second {
		return nil, fmt.Errorf("TEMPLATE_SYNC_INTERVAL must be a duration of at least 1s such as 15m, not %q", getenv("TEMPLATE_SYNC_INTERVAL"))
	}
	c.TemplateSyncInterval = tsi
	if err := c.loadWebhooks(get); err != nil {
		return nil, err
	}
	if err := c.loadWork(get); err != nil {
		return nil, err
	}
	if err := c.loadGC(get); err != nil {
		return nil, err
	}
	if c.PprofAddr = get("PPROF_ADDR", ""); c.PprofAddr != "" && !isLoopback(c.PprofAddr) {
		return nil, fmt.Errorf("PPROF_ADDR must be a loopback address such as 127.0.0.1:6060, not %q", c.PprofAddr)
	}
	mq, err := parseByteSize(get("MEDIA_QUOTA_PER_COMPANY", "2GiB"))
	if err != nil {
		return nil, fmt.Errorf("MEDIA_QUOTA_PER_COMPANY must be a size such as 2GiB, 500MB or 0 (off), not %q", getenv("MEDIA_QUOTA_PER_COMPANY"))
	}
	c.MediaQuotaPerCompany = mq

	if c.MediaSigningKey != "" && len(c.MediaSigningKey) < 32 {
		return nil, errors.New("MEDIA_SIGNING_KEY must be at least 32 bytes")
	}
	if s := getenv("JWT_SECRET"); s != "" {
		c.JWTSecret = []byte(s)
	}
	if prod {
		var missing []string
		if len(c.JWTSecret) < 32 {
			missing = append(missing, "JWT_SECRET (at least 32 bytes)")
		}
		if strings.TrimSpace(getenv("PUBLIC_BASE_URL")) == "" {
			missing = append(missing, "PUBLIC_BASE_URL")
		}
		if c.TwilioAccountSID == "" || c.TwilioAuthToken == "" {
			missing = append(missing, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
		}
		if len(missing) > 0 {
			return nil, errors.New("APP_ENV=production needs " + strings.Join(missing, ", "))
		}
	}
	if len(c.JWTSecret) == 0 {
		c.JWTSecret = make([]byte, 32)
		if _, err := rand.Read(c.JWTSecret); err != nil {
			return nil, err
		}
		c.JWTSecretGenerated = true
	}
	return c, nil
}

// IsProduction reports whether APP_ENV=production.
func (c *Config) IsProduction() bool { return c.AppEnv == "production" }

// parseRetention reads EVENT_RETENTION: a Go duration or whole days ("7d"), at
// least an hour (a client reconnecting after a short outage must find its cursor).
func parseRetention(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("EVENT_RETENTION must be a duration of at least 1h, such as 168h or 7d, not %q", s)
	}
	return d, nil
}
