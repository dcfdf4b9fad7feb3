package config

import (
	"fmt"
	"strings"
)

// Masked returns the effective configuration for the start log, secrets masked.
func (c *Config) Masked() map[string]any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return map[string]any{
		"DATABASE_URL":            maskURL(c.DatabaseURL),
		"LISTEN_ADDR":             c.ListenAddr,
		"APP_ENV":                 c.AppEnv,
		"PUBLIC_BASE_URL":         c.PublicBaseURL,
		"JWT_SECRET":              mask(string(c.JWTSecret)),
		"JWT_TTL":                 c.JWTTTL.String(),
		"TWILIO_ACCOUNT_SID":      c.TwilioAccountSID,
		"TWILIO_AUTH_TOKEN":       mask(c.TwilioAuthToken),
		"TWILIO_API_BASE":         c.TwilioAPIBase,
		"MEDIA_DIR":               c.MediaDir,
		"MEDIA_SIGNING_KEY":       mask(c.MediaSigningKey),
		"AUTH_RATE_LIMIT":         c.AuthRateLimit,
		"DELIVERY_WORKERS":        c.DeliveryWorkers,
		"DB_MAX_CONNS":            c.DBMaxConns,
		"GRAPHQL_INTROSPECTION":   c.GraphQLIntrospection,
		"PLAYGROUND":              c.Playground,
		"CORS_ORIGINS":            c.CORSOrigins,
		"LOG_LEVEL":               c.LogLevel,
		"REQUEST_TIMEOUT":         c.RequestTimeout.String(),
		"WS_KEEPALIVE":            c.WSKeepAlive.String(),
		"MAX_CONCURRENT_REQUESTS": c.MaxConcurrentRequests,
		"WORKING_REQUESTS":        workText(c.WorkingRequests),
		"METRICS_TOKEN":           mask(c.MetricsToken),
		"PPROF_ADDR":              c.PprofAddr,
		"MEDIA_QUOTA_PER_COMPANY": c.MediaQuotaPerCompany,
		"EVENT_RETENTION":         c.EventRetention.String(),
		"GC_PERCENT":              gcPercentText(c.GCPercent),

		// Client limits (loadClientLimits).
		"AUTH_RATE_LIMIT_PER_ADDR": c.AuthRateLimitPerAddr,
		"TRUSTED_PROXIES":          c.TrustedProxies,
		"BODY_TIMEOUT":             c.BodyTimeout.String(),
		"UPLOADS_PER_AGENT":        c.UploadsPerAgent,
		"WS_MAX_PER_AGENT":         c.WSMaxPerAgent,
		"WS_MAX_PER_ADDR":          c.WSMaxPerAddr,
		"TWILIO_CONTENT_API_BASE":  c.TwilioContentAPIBase,
		"TEMPLATE_SYNC_INTERVAL":   c.TemplateSyncInterval.String(),

		// Outgoing webhooks (loadWebhooks).
		"WEBHOOK_ALLOW_PRIVATE":  c.Webhooks.AllowPrivate,
		"WEBHOOK_TIMEOUT":        c.Webhooks.Timeout.String(),
		"WEBHOOK_WORKERS":        c.Webhooks.Workers,
		"WEBHOOK_PER_ENDPOINT":   c.Webhooks.PerEndpoint,
		"WEBHOOK_RETRY_SCHEDULE": fmt.Sprint(c.Webhooks.RetrySchedule),
		"WEBHOOK_DISABLE_AFTER":  c.Webhooks.DisableAfter.String(),
	}
}

func maskURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			cred := s[i+3 : at]
			if u, _, ok := strings.Cut(cred, ":"); ok {
				return s[:i+3] + u + ":***" + s[at:]
			}
		}
	}
	return s
}
