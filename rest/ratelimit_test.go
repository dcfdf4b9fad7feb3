package rest_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

// retryAfter checks a 429 and returns its Retry-After in seconds.
func retryAfter(t *testing.T, r *testkit.Response) int {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
	}
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q, want 1–60 seconds", r.Header.Get("Retry-After"))
	}
	return s
}

func login(t *testing.T, app *testkit.App, email string, headers ...string) *testkit.Response {
	t.Helper()
	return app.Do("POST", "/auth/login", "", map[string]any{"email": email, "password": "guess-guess"}, headers...)
}

func TestLogin_OneAddressSprayingManyEmailsIsLimited(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.AuthRateLimit, c.AuthRateLimitPerAddr = 5, 15 })
	limited := 0
	for i := range 25 {
		r := login(t, app, fmt.Sprintf("user%d@example.com", i))
		switch {
		case i < 15 && r.Status != http.StatusForbidden:
			t.Fatalf("attempt %d within the budget: %d %s", i+1, r.Status, r.Body)
		case i >= 15:
			retryAfter(t, r)
			limited++
		}
	}
	if limited != 10 {
		t.Errorf("%d of 25 attempts limited, want 10", limited)
	}
	// The budget is per minute: the Retry-After it gave is enough.
	app.Clock.Set(app.Clock.Now().Add(61 * time.Second))
	if r := login(t, app, "late@example.com"); r.Status != http.StatusForbidden {
		t.Errorf("after the window: %d %s", r.Status, r.Body)
	}
}

func TestLogin_RateLimitedAnswerCarriesRetryAfter(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.AuthRateLimit = 2 })
	login(t, app, "victim@example.com")
	app.Clock.Set(app.Clock.Now().Add(20 * time.Second))
	login(t, app, "victim@example.com")
	// The oldest attempt leaves the window in 40 s.
	if s := retryAfter(t, login(t, app, "victim@example.com")); s != 40 {
		t.Errorf("Retry-After %d, want 40", s)
	}
	res := app.GraphQL("", `mutation { login(email: "victim@example.com", password: "guess-guess") { token } }`, nil)
	if res.Code() != "RATE_LIMITED" || res.Errors[0].Extensions["retryAfter"] != float64(40) {
		t.Errorf("GraphQL: %+v", res.Errors)
	}
}

func TestLogin_ForwardedForFromAnUntrustedPeerIsIgnored(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.AuthRateLimit = 3 })
	for i := range 3 {
		r := login(t, app, "victim@example.com", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if r.Status != http.StatusForbidden {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// A fresh X-Forwarded-For does not make a fresh budget.
	retryAfter(t, login(t, app, "victim@example.com", "X-Forwarded-For", "198.51.100.99"))
}

func TestLogin_ForwardedForFromATrustedProxyNamesTheClient(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) {
		c.AuthRateLimit = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	// The attacker behind the proxy writes the victim's address into the header; the
	// proxy appends the attacker's own. Its attempts count against the attacker.
	for i := range 3 {
		r := login(t, app, "victim@example.com", "X-Forwarded-For", "203.0.113.5, 198.51.100.66")
		if r.Status != http.StatusForbidden {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	retryAfter(t, login(t, app, "victim@example.com", "X-Forwarded-For", "203.0.113.5, 198.51.100.66"))
	// The victim, behind the same proxy, is not locked out.
	if r := login(t, app, "victim@example.com", "X-Forwarded-For", "203.0.113.5"); r.Status != http.StatusForbidden {
		t.Errorf("the victim was locked out: %d %s", r.Status, r.Body)
	}
}
