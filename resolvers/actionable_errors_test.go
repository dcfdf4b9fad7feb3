package resolvers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/connectme/connectme/testkit"
)

// forged signs claims like ours with another key.
func forged(t *testing.T, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "1", "cid": 1, "role": "OWNER", "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix(),
	}).SignedString([]byte("not-the-server-secret-not-the-server-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestUnauthenticated_ReasonSaysWhatTheClientDoes: an expired token is
// UNAUTHENTICATED with reason TOKEN_EXPIRED (refresh), an ended session
// SESSION_ENDED (sign in again), a forged or malformed one TOKEN_INVALID; no token,
// no reason. REST keeps its exact legacy body and says it in WWW-Authenticate.
func TestUnauthenticated_ReasonSaysWhatTheClientDoes(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	expired := app.Token(tn.agent)
	app.Clock.Set(app.Clock.Now().Add(app.Config.JWTTTL / 2))
	live := login(t, app, tn.agent).Token
	app.Clock.Set(app.Clock.Now().Add(app.Config.JWTTTL/2 + time.Second))
	cases := []struct {
		name, token, reason string
	}{
		{"expired", expired, "TOKEN_EXPIRED"},
		{"session ended, not expired", sessionEndedFresh(t, app, tn), "SESSION_ENDED"},
		{"forged, expired", forged(t, app.Clock.Now().Add(-time.Hour)), "TOKEN_INVALID"},
		{"forged, unexpired", forged(t, app.Clock.Now().Add(time.Hour)), "TOKEN_INVALID"},
		{"malformed", "not.a.token", "TOKEN_INVALID"},
		{"none", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := app.GraphQL(c.token, meQuery, nil)
			if res.Code() != "UNAUTHENTICATED" {
				t.Fatalf("errors %+v", res.Errors)
			}
			if got, _ := res.Errors[0].Extensions["reason"].(string); got != c.reason {
				t.Errorf("reason %q, want %q", got, c.reason)
			}
			r := app.Do(http.MethodGet, "/template", c.token, nil)
			if r.Status != 401 || strings.TrimSpace(string(r.Body)) != `{"statusCode":401,"message":"Unauthorized"}` {
				t.Errorf("REST: %d %s", r.Status, r.Body)
			}
			h := r.Header.Get("WWW-Authenticate")
			if (c.reason == "") != (h == "") || !strings.Contains(h, c.reason) {
				t.Errorf("WWW-Authenticate %q, want the reason %q", h, c.reason)
			}
		})
	}
	// A valid token still works (and an anonymous field needs none).
	gql(t, app, live, meQuery, nil, nil)
	gql(t, app, "", `{ apiInfo { name } }`, nil, nil)
}

// sessionEndedFresh signs in now and logs the session out: an unexpired token of an
// ended session.
func sessionEndedFresh(t *testing.T, app *testkit.App, tn tenant) string {
	t.Helper()
	tok := login(t, app, tn.agent).Token
	gql(t, app, tok, `mutation { logout }`, nil, nil)
	return tok
}

// TestSendMessage_WindowClosedSaysWhenItClosed: WINDOW_CLOSED carries
// windowClosedAt (three fractional digits, UTC), null when the contact never wrote.
func TestSendMessage_WindowClosedSaysWhenItClosed(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	last := app.Clock.Now().Add(-30 * time.Hour).Truncate(time.Millisecond).Add(120 * time.Millisecond)
	conv := testkit.Conversation(t, app.DB, a.company.ID, last)
	res := app.GraphQL(a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "late"}})
	if res.Code() != "WINDOW_CLOSED" {
		t.Fatalf("errors %+v", res.Errors)
	}
	want := last.Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	if got := res.Errors[0].Extensions["windowClosedAt"]; got != want {
		t.Errorf("windowClosedAt %v, want %s", got, want)
	}
	never := testkit.Conversation(t, app.DB, a.company.ID, time.Time{})
	res = app.GraphQL(a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(never.UserID), "text": "hello"}})
	if ext := res.Errors[0].Extensions; res.Code() != "WINDOW_CLOSED" || ext["windowClosedAt"] != nil {
		t.Errorf("never opened: %+v", res.Errors)
	} else if _, ok := ext["windowClosedAt"]; !ok {
		t.Error("windowClosedAt is missing (want null)")
	}
}
