package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over the given variables.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// production is a complete production environment; tests remove or change one thing.
func production() map[string]string {
	return map[string]string{
		"APP_ENV":            "production",
		"JWT_SECRET":         "0123456789abcdef0123456789abcdef-prod",
		"PUBLIC_BASE_URL":    "https://inbox.example.com",
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "twilio-auth-token-secret-value",
	}
}

func TestLoad_ProductionRefusesToStartWithoutSecrets(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]string)
		// want lists what the error must name; empty means Load succeeds.
		want []string
	}{
		{"complete", func(map[string]string) {}, nil},
		{"no JWT_SECRET", func(e map[string]string) { delete(e, "JWT_SECRET") }, []string{"JWT_SECRET"}},
		{"JWT_SECRET of 31 bytes", func(e map[string]string) { e["JWT_SECRET"] = strings.Repeat("x", 31) }, []string{"JWT_SECRET", "32 bytes"}},
		{"JWT_SECRET of 32 bytes", func(e map[string]string) { e["JWT_SECRET"] = strings.Repeat("x", 32) }, nil},
		{"no PUBLIC_BASE_URL", func(e map[string]string) { delete(e, "PUBLIC_BASE_URL") }, []string{"PUBLIC_BASE_URL"}},
		{"blank PUBLIC_BASE_URL", func(e map[string]string) { e["PUBLIC_BASE_URL"] = "   " }, []string{"PUBLIC_BASE_URL"}},
		{"no TWILIO_ACCOUNT_SID", func(e map[string]string) { delete(e, "TWILIO_ACCOUNT_SID") }, []string{"TWILIO_ACCOUNT_SID"}},
		{"no TWILIO_AUTH_TOKEN", func(e map[string]string) { delete(e, "TWILIO_AUTH_TOKEN") }, []string{"TWILIO_AUTH_TOKEN"}},
		{"nothing at all", func(e map[string]string) {
			for k := range e {
				if k != "APP_ENV" {
					delete(e, k)
				}
			}
		}, []string{"JWT_SECRET", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := production()
			tc.change(e)
			c, err := Load(env(e))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if c.JWTSecretGenerated {
					t.Error("production must never run on a generated JWT secret")
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded; want a refusal naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestLoad_DevelopmentStartsWithNothingSet(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.JWTSecretGenerated || len(c.JWTSecret) < 32 {
		t.Errorf("development secret: generated=%v len=%d", c.JWTSecretGenerated, len(c.JWTSecret))
	}
	if !c.GraphQLIntrospection || !c.Playground {
		t.Errorf("development: introspection=%v playground=%v, want both on", c.GraphQLIntrospection, c.Playground)
	}
	if c.RequestTimeout != 10*time.Second || c.MaxConcurrentRequests != 256 || c.MetricsToken != "" {
		t.Errorf("limits: timeout=%v max=%d token=%q", c.RequestTimeout, c.MaxConcurrentRequests, c.MetricsToken)
	}
	if c.WSKeepAlive != 15*time.Second {
		t.Errorf("WS_KEEPALIVE = %v, want 15s", c.WSKeepAlive)
	}
	if c.DBMaxConns != 32 || c.DeliveryWorkers != 4 {
		t.Errorf("pools: DB_MAX_CONNS=%d DELIVERY_WORKERS=%d, want 32 and 4", c.DBMaxConns, c.DeliveryWorkers)
	}
	if c, err := Load(env(map[string]string{"DB_MAX_CONNS": "8"})); err != nil || c.DBMaxConns != 8 {
		t.Errorf("DB_MAX_CONNS=8: %v %v", c, err)
	}
}

func TestLoad_ProductionTurnsPlaygroundAndIntrospectionOffUnlessEnabled(t *testing.T) {
	cases := []struct {
		introspection, playground string
		wantI, wantP              bool
	}{
		{"", "", false, false},
		{"true", "", true, false},
		{"", "true", false, true},
		{"true", "true", true, true},
		{"false", "false", false, false},
	}
	for _, tc := range cases {
		e := production()
		e["GRAPHQL_INTROSPECTION"], e["PLAYGROUND"] = tc.introspection, tc.playground
		c, err := Load(env(e))
		if err != nil {
			t.Fatal(err)
		}
		if c.GraphQLIntrospection != tc.wantI || c.Playground != tc.wantP {
			t.Errorf("GRAPHQL_INTROSPECTION=%q PLAYGROUND=%q: introspection=%v playground=%v, want %v %v",
				tc.introspection, tc.playground, c.GraphQLIntrospection, c.Playground, tc.wantI, tc.wantP)
		}
	}
}

func TestLoad_RefusesBadValues(t *testing.T) {
	cases := map[string]string{
		"APP_ENV":                 "staging",
		"PORT":                    "http",
		"JWT_TTL":                 "-1h",
		"AUTH_RATE_LIMIT":         "-1",
		"DELIVERY_WORKERS":        "0",
		"DB_MAX_CONNS":            "1",
		"GRAPHQL_INTROSPECTION":   "maybe",
		"PLAYGROUND":              "yes please",
		"MEDIA_SIGNING_KEY":       "short",
		"REQUEST_TIMEOUT":         "10",
		"WS_KEEPALIVE":            "1ms",
		"MAX_CONCURRENT_REQUESTS": "-5",
		"PUBLIC_BASE_URL":         "inbox.example.com",
	}
	for k, v := range cases {
		if _, err := Load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: err = %v, want a refusal naming %s", k, v, err, k)
		}
	}
	if _, err := Load(env(map[string]string{"PUBLIC_BASE_URL": "ftp://inbox.example.com"})); err == nil {
		t.Error("an ftp PUBLIC_BASE_URL was accepted")
	}
}

func TestMasked_ShowsNoSecret(t *testing.T) {
	e := production()
	e["MEDIA_SIGNING_KEY"] = "media-signing-key-media-signing-key-42"
	e["METRICS_TOKEN"] = "metrics-bearer-token-value"
	e["DATABASE_URL"] = "postgres://app:db-password-value@db.internal:5432/connectme?sslmode=verify-full"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c.Masked())
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, secret := range []string{e["JWT_SECRET"], e["TWILIO_AUTH_TOKEN"], e["MEDIA_SIGNING_KEY"], e["METRICS_TOKEN"], "db-password-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("the start log would show a secret %q: %s", secret, out)
		}
	}
	// What is not secret is shown, so the log says what the process runs with.
	for _, shown := range []string{"postgres://app:***@db.internal:5432/connectme", e["PUBLIC_BASE_URL"], e["TWILIO_ACCOUNT_SID"], `"JWT_SECRET":"***"`} {
		if !strings.Contains(out, shown) {
			t.Errorf("start log lacks %s: %s", shown, out)
		}
	}
	// Every variable but PORT (folded into LISTEN_ADDR) is in the start log.
	m := c.Masked()
	for _, v := range Vars {
		if _, ok := m[v.Name]; !ok && v.Name != "PORT" {
			t.Errorf("%s is missing from Masked", v.Name)
		}
	}
}

func TestMaskURL(t *testing.T) {
	cases := map[string]string{
		"postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable": "postgres://postgres@127.0.0.1:5432/connectme?sslmode=disable",
		"postgres://u:p@h/db":           "postgres://u:***@h/db",
		"postgres://u:p@ss:w@rd@h/db":   "postgres://u:***@h/db",
		"postgres://u:@h/db":            "postgres://u:***@h/db",
		"unix://u:secret@/var/run/pg":   "unix://u:***@/var/run/pg",
		"no scheme at all, no password": "no scheme at all, no password",
	}
	for in, want := range cases {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}
