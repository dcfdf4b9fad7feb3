package resolvers_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const loginMutation = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token refreshToken expiresAt user { id role active displayName } } }`
const refreshMutation = `mutation($r: String!) { refreshSession(refreshToken: $r) { token refreshToken user { id } } }`
const meQuery = `{ me { id } }`

type authPayload struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID          string `json:"id"`
		Role        string `json:"role"`
		Active      bool   `json:"active"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
}

// login signs the agent in over GraphQL (password testkit.Password).
func login(t *testing.T, app *testkit.App, u *db.User) authPayload {
	t.Helper()
	var out struct{ Login authPayload }
	gql(t, app, "", loginMutation, map[string]any{"e": *u.Email, "p": testkit.Password}, &out)
	if out.Login.Token == "" || len(out.Login.RefreshToken) < 22 {
		t.Fatalf("login answered no token pair: %+v", out.Login)
	}
	return out.Login
}

func refresh(t *testing.T, app *testkit.App, rt string) authPayload {
	t.Helper()
	var out struct{ RefreshSession authPayload }
	gql(t, app, "", refreshMutation, map[string]any{"r": rt}, &out)
	return out.RefreshSession
}

func TestLogin_AnswersATokenPairOfANewSession(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	a, b := login(t, app, tn.agent), login(t, app, tn.agent)
	if a.RefreshToken == b.RefreshToken || a.Token == b.Token {
		t.Fatal("two logins answered the same tokens")
	}
	if !a.User.Active || a.User.DisplayName != tn.agent.FirstName+" "+tn.agent.LastName {
		t.Fatalf("user: %+v", a.User)
	}
	gql(t, app, a.Token, meQuery, nil, nil)
	var n int
	if err := app.DB.NewSelect().Table("sessions").ColumnExpr("count(*)").Where("user_id = ?", tn.agent.ID).Scan(t.Context(), &n); err != nil || n != 2 {
		t.Fatalf("sessions: %d, %v", n, err)
	}
	// Only hashes are stored.
	var leaked int
	if err := app.DB.NewSelect().Table("refresh_tokens").ColumnExpr("count(*)").
		Where("encode(token_hash, 'escape') LIKE ?", "%"+a.RefreshToken+"%").Scan(t.Context(), &leaked); err != nil || leaked != 0 {
		t.Fatalf("refresh token stored in clear: %d %v", leaked, err)
	}
}

func TestRefreshSession_RotatesAndReuseEndsTheSession(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	first := login(t, app, tn.agent)
	second := refresh(t, app, first.RefreshToken)
	if second.RefreshToken == first.RefreshToken || second.Token == "" {
		t.Fatal("refresh did not rotate")
	}
	gql(t, app, second.Token, meQuery, nil, nil)
	third := refresh(t, app, second.RefreshToken)
	gql(t, app, third.Token, meQuery, nil, nil)

	// The first token again: reuse. The whole session ends, its newest tokens too.
	wantCode(t, app, "", refreshMutation, map[string]any{"r": first.RefreshToken}, "UNAUTHENTICATED")
	wantCode(t, app, third.Token, meQuery, nil, "UNAUTHENTICATED")
	wantCode(t, app, "", refreshMutation, map[string]any{"r": third.RefreshToken}, "UNAUTHENTICATED")
	// Another session of the agent lives on.
	other := login(t, app, tn.agent)
	gql(t, app, other.Token, meQuery, nil, nil)
}

func TestRefreshSession_RefusesBadTokens(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	loggedOut := login(t, app, tn.agent)
	gql(t, app, loggedOut.Token, `mutation { logout }`, nil, nil)
	for name, tok := range map[string]string{
		"unknown":     "dGhpcyBpcyBub3QgYSByZWZyZXNoIHRva2VuIGF0IGFsbA",
		"empty":       "",
		"huge":        string(make([]byte, 5000)),
		"logged out":  loggedOut.RefreshToken,
		"access jwt":  loggedOut.Token,
		"with spaces": " " + loggedOut.RefreshToken,
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, app, "", refreshMutation, map[string]any{"r": tok}, "UNAUTHENTICATED")
		})
	}
	// Expired: 30 days after its issue.
	live := login(t, app, tn.agent)
	app.Clock.Set(app.Clock.Now().Add(30*24*time.Hour + time.Second))
	wantCode(t, app, "", refreshMutation, map[string]any{"r": live.RefreshToken}, "UNAUTHENTICATED")
}

func TestRefreshSession_ConcurrentRefreshesOfOneToken(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	p := login(t, app, tn.agent)
	const n = 4
	var wg sync.WaitGroup
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			res := app.GraphQL("", refreshMutation, map[string]any{"r": p.RefreshToken})
			codes[i] = res.Code()
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case "UNAUTHENTICATED":
		default:
			t.Fatalf("unexpected code %q", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1: %v", ok, n, codes)
	}
	// The others were reuse: the session has ended.
	var revoked int
	if err := app.DB.NewSelect().Table("sessions").ColumnExpr("count(*)").Where("user_id = ?", tn.agent.ID).
		Where("revoked_reason = 'refresh token reuse'").Scan(t.Context(), &revoked); err != nil || revoked != 1 {
		t.Fatalf("revoked sessions: %d %v", revoked, err)
	}
}

func TestLogout_EndsThisOrEverySession(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	a, b, c := login(t, app, tn.agent), login(t, app, tn.agent), login(t, app, tn.agent)
	var out struct{ Logout bool }
	gql(t, app, a.Token, `mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Fatal("logout answered false")
	}
	wantCode(t, app, a.Token, meQuery, nil, "UNAUTHENTICATED")
	gql(t, app, b.Token, meQuery, nil, nil)
	gql(t, app, b.Token, `mutation { logout(allSessions: true) }`, nil, nil)
	wantCode(t, app, b.Token, meQuery, nil, "UNAUTHENTICATED")
	wantCode(t, app, c.Token, meQuery, nil, "UNAUTHENTICATED")
	wantCode(t, app, "", refreshMutation, map[string]any{"r": c.RefreshToken}, "UNAUTHENTICATED")
	wantCode(t, app, "", `mutation { logout }`, nil, "UNAUTHENTICATED")
	// REST answers the legacy 401.
	if r := app.Do(http.MethodGet, "/template", c.Token, nil); r.Status != 401 || strings.TrimSpace(string(r.Body)) != `{"statusCode":401,"message":"Unauthorized"}` {
		t.Fatalf("REST with a logged-out token: %d %s", r.Status, r.Body)
	}
}

const changePassword = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token refreshToken user { id } } }`

func TestChangePassword_EndsEveryOtherSession(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	mine, other := login(t, app, tn.agent), login(t, app, tn.agent)
	var out struct{ ChangePassword authPayload }
	gql(t, app, mine.Token, changePassword, map[string]any{"c": testkit.Password, "n": "a-new-password"}, &out)
	wantCode(t, app, other.Token, meQuery, nil, "UNAUTHENTICATED")
	wantCode(t, app, "", refreshMutation, map[string]any{"r": other.RefreshToken}, "UNAUTHENTICATED")
	gql(t, app, out.ChangePassword.Token, meQuery, nil, nil)
	gql(t, app, mine.Token, meQuery, nil, nil) // this session goes on
	refresh(t, app, out.ChangePassword.RefreshToken)
	wantCode(t, app, "", loginMutation, map[string]any{"e": *tn.agent.Email, "p": testkit.Password}, "FORBIDDEN")
	gql(t, app, "", loginMutation, map[string]any{"e": *tn.agent.Email, "p": "a-new-password"}, nil)
}

func TestChangePassword_BadInput(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	p := login(t, app, tn.agent)
	for name, c := range map[string]struct{ current, next, code string }{
		"wrong current": {"not-the-password", "a-new-password", "BAD_USER_INPUT"},
		"empty current": {"", "a-new-password", "BAD_USER_INPUT"},
		"short new":     {testkit.Password, "short", "BAD_USER_INPUT"},
		"new over 72 B": {testkit.Password, string(make([]byte, 73)), "BAD_USER_INPUT"},
		"no bearer":     {testkit.Password, "a-new-password", "UNAUTHENTICATED"},
	} {
		t.Run(name, func(t *testing.T) {
			tok := p.Token
			if c.code == "UNAUTHENTICATED" {
				tok = ""
			}
			wantCode(t, app, tok, changePassword, map[string]any{"c": c.current, "n": c.next}, c.code)
		})
	}
	gql(t, app, p.Token, meQuery, nil, nil) // nothing was ended
}

func TestREST_RefreshAndLogout(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	r := app.Do(http.MethodPost, "/auth/login", "", map[string]any{"email": *tn.agent.Email, "password": testkit.Password})
	var lr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
	}
	r.JSON(t, &lr)
	if r.Status != 200 || lr.RefreshToken == "" || lr.TokenType != "Bearer" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	r = app.Do(http.MethodPost, "/auth/refresh", "", map[string]any{"refresh_token": lr.RefreshToken})
	var rr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			UserID int64 `json:"userId"`
		} `json:"user"`
	}
	r.JSON(t, &rr)
	if r.Status != 200 || rr.RefreshToken == "" || rr.RefreshToken == lr.RefreshToken || rr.User.UserID != tn.agent.ID {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	for name, body := range map[string]any{
		"rotated": map[string]any{"refresh_token": lr.RefreshToken},
		"unknown": map[string]any{"refresh_token": "nope"},
	} {
		r = app.Do(http.MethodPost, "/auth/refresh", "", body)
		if r.Status != 401 || strings.TrimSpace(string(r.Body)) != `{"statusCode":401,"message":"Unauthorized"}` {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r = app.Do(http.MethodPost, "/auth/refresh", "", map[string]any{}); r.Status != 400 {
		t.Fatalf("no refresh_token: %d %s", r.Status, r.Body)
	}
	// The rotated token's reuse ended the session: log in again, and out.
	r = app.Do(http.MethodPost, "/auth/login", "", map[string]any{"email": *tn.agent.Email, "password": testkit.Password})
	r.JSON(t, &lr)
	if r = app.Do(http.MethodPost, "/auth/logout", lr.AccessToken, nil); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r = app.Do(http.MethodPost, "/auth/logout", lr.AccessToken, nil); r.Status != 401 {
		t.Fatalf("logout again: %d %s", r.Status, r.Body)
	}
	if r = app.Do(http.MethodGet, "/template", lr.AccessToken, nil); r.Status != 401 {
		t.Fatalf("after logout: %d %s", r.Status, r.Body)
	}
}

func TestSignup_AnswersARefreshToken(t *testing.T) {
	app := testkit.NewApp(t)
	var out struct{ Signup authPayload }
	gql(t, app, "", `mutation { signup(input: {firstName: "Ann", lastName: "Lee", phone: "+94771234567", email: "ann@example.com", password: "long-enough", companyName: "Acme"}) { token refreshToken user { id role active } } }`, nil, &out)
	if out.Signup.RefreshToken == "" || out.Signup.User.Role != "OWNER" || !out.Signup.User.Active {
		t.Fatalf("signup: %+v", out.Signup)
	}
	refresh(t, app, out.Signup.RefreshToken)
}

// refreshSession, acceptInvitation and changePassword spend the sign-in budget as
// login does.
func TestSessionOperations_AreRateLimited(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.AuthRateLimit, c.AuthRateLimitPerAddr = 2, 100 })
	tn := newTenant(t, app)
	p := login(t, app, tn.agent)
	for name, try := range map[string]func() string{
		"refreshSession": func() string {
			return app.GraphQL("", refreshMutation, map[string]any{"r": "junk"}).Code()
		},
		"acceptInvitation": func() string {
			return app.GraphQL("", acceptMutation, accept("junk", "a-good-password")).Code()
		},
		"changePassword": func() string {
			return app.GraphQL(p.Token, changePassword, map[string]any{"c": "wrong-password", "n": "a-new-password"}).Code()
		},
	} {
		t.Run(name, func(t *testing.T) {
			var codes []string
			for range 3 {
				codes = append(codes, try())
			}
			if codes[0] == "RATE_LIMITED" || codes[2] != "RATE_LIMITED" {
				t.Fatalf("codes %v, want the third RATE_LIMITED", codes)
			}
		})
	}
}

func TestPurgeSessions_RemovesWhatNoCheckNeeds(t *testing.T) {
	app := testkit.NewApp(t)
	tn := newTenant(t, app)
	ended, live := login(t, app, tn.agent), login(t, app, tn.agent)
	gql(t, app, ended.Token, `mutation { logout }`, nil, nil)
	start := app.Clock.Now()
	app.Clock.Set(start.Add(29 * 24 * time.Hour))
	live = refresh(t, app, live.RefreshToken)
	app.Clock.Set(start.Add(31 * 24 * time.Hour))
	n, err := app.Resolver.PurgeSessions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The ended session (with its token) and the live one's expired first token.
	var sessions, tokens int
	if err := app.DB.NewRaw("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM refresh_tokens)").
		Scan(t.Context(), &sessions, &tokens); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sessions != 1 || tokens != 1 {
		t.Fatalf("purged %d; left %d sessions and %d refresh tokens", n, sessions, tokens)
	}
	refresh(t, app, live.RefreshToken)
}
