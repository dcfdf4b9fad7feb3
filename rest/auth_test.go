package rest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

func validSignup() map[string]any {
	return map[string]any{
		"firstName": "Madhawa", "lastName": "Samarawickrama", "phone": "+94717936775",
		"email": "madhawa@example.com", "password": "s3cret-pass", "companyName": "Acme",
	}
}

func TestSignup_CreatesCompanyAndOwnerWithLegacyShape(t *testing.T) {
	app := testkit.NewApp(t)
	resp := call(t, app, "POST", "/auth/signup", "", validSignup())
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	m := resp.Map(t)
	if _, ok := m["userId"].(float64); !ok {
		t.Errorf("userId is not a number: %v", m["userId"])
	}
	if m["firstName"] != "Madhawa" || m["lastName"] != "Samarawickrama" || m["phone"] != "+94717936775" {
		t.Errorf("unexpected body %v", m)
	}
	if _, ok := m["password"]; ok {
		t.Error("signup leaks the password")
	}
	var role string
	if err := app.DB.NewRaw("SELECT role FROM users WHERE email = ?", "madhawa@example.com").Scan(t.Context(), &role); err != nil || role != "OWNER" {
		t.Errorf("role = %q, %v; want OWNER", role, err)
	}
}

func TestSignup_DuplicateEmailIsConflict(t *testing.T) {
	app := testkit.NewApp(t)
	if r := call(t, app, "POST", "/auth/signup", "", validSignup()); r.Status != 200 {
		t.Fatalf("first signup: %d %s", r.Status, r.Body)
	}
	body := validSignup()
	body["email"] = "MADHAWA@example.com"
	r := call(t, app, "POST", "/auth/signup", "", body)
	if r.Status != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", r.Status, r.Body)
	}
	m := r.Map(t)
	if m["statusCode"] != float64(409) || m["error"] != "Conflict" {
		t.Errorf("error shape: %v", m)
	}
	var n int
	_ = app.DB.NewRaw("SELECT count(*) FROM companies").Scan(t.Context(), &n)
	if n != 1 {
		t.Errorf("companies = %d, want 1 (nothing stored by the refused signup)", n)
	}
}

func TestSignup_BadInputIs400WithMessageList(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]any)
		raw    string
		want   string
	}{
		{name: "missing firstName", change: func(m map[string]any) { delete(m, "firstName") }, want: "firstName should not be empty"},
		{name: "empty lastName", change: func(m map[string]any) { m["lastName"] = "  " }, want: "lastName should not be empty"},
		{name: "malformed email", change: func(m map[string]any) { m["email"] = "not-an-email" }, want: "email must be an email"},
		{name: "short password", change: func(m map[string]any) { m["password"] = "short" }, want: "password must be longer than or equal to 8 characters"},
		{name: "national phone", change: func(m map[string]any) { m["phone"] = "0717936775" }, want: "phone must be a phone number"},
		{name: "letters in phone", change: func(m map[string]any) { m["phone"] = "+94abc" }, want: "phone must be a phone number"},
		{name: "number as email", change: func(m map[string]any) { m["email"] = 42 }, want: "email must be a string"},
		{name: "missing companyName", change: func(m map[string]any) { delete(m, "companyName") }, want: "companyName should not be empty"},
		{name: "bad whatsappNumber", change: func(m map[string]any) { m["whatsappNumber"] = "whatsapp:123" }, want: "whatsappNumber must be a phone number"},
		{name: "not JSON", raw: "{not json", want: "request body must be a JSON object"},
		{name: "JSON array", raw: `[1,2]`, want: "request body must be a JSON object"},
		{name: "JSON string", raw: `"hello"`, want: "request body must be a JSON object"},
		{name: "empty body", raw: ``, want: "request body must be a JSON object"},
	}
	app := testkit.NewApp(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.change != nil {
				m := validSignup()
				tc.change(m)
				body = m
			} else {
				body = tc.raw
			}
			r := call(t, app, "POST", "/auth/signup", "", body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			m := r.Map(t)
			msgs, ok := m["message"].([]any)
			if !ok || len(msgs) == 0 {
				t.Fatalf("message is not a list of strings: %v", m["message"])
			}
			found := false
			for _, s := range msgs {
				if strings.Contains(s.(string), tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("messages %v do not contain %q", msgs, tc.want)
			}
			if m["statusCode"] != float64(400) || m["error"] != "Bad Request" {
				t.Errorf("error shape: %v", m)
			}
		})
	}
	var n int
	_ = app.DB.NewRaw("SELECT count(*) FROM users").Scan(t.Context(), &n)
	if n != 0 {
		t.Errorf("users = %d after refused signups, want 0", n)
	}
}

func TestSignup_OversizedBodyIs413(t *testing.T) {
	app := testkit.NewApp(t)
	big := `{"firstName":"` + strings.Repeat("a", 2<<20) + `"}`
	r := call(t, app, "POST", "/auth/signup", "", big)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", r.Status)
	}
	if m := r.Map(t); m["statusCode"] != float64(413) {
		t.Errorf("error shape: %v", m)
	}
}

func TestLogin_ReturnsTokenAndUser(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	r := call(t, app, "POST", "/auth/login", "", map[string]any{"email": *agent.Email, "password": testkit.Password})
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		User        struct {
			UserID    int64  `json:"userId"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
			Phone     string `json:"phone"`
			Email     string `json:"email"`
			CompanyID int64  `json:"companyId"`
		} `json:"user"`
	}
	r.JSON(t, &body)
	if body.AccessToken == "" || body.TokenType != "Bearer" || body.ExpiresIn != 86400 {
		t.Errorf("token fields: %+v", body)
	}
	if body.User.UserID != agent.ID || body.User.CompanyID != c.ID || body.User.Email != *agent.Email || body.User.Phone != *agent.Phone {
		t.Errorf("user: %+v", body.User)
	}
	// The token works.
	g := app.GraphQL(body.AccessToken, `{ me { id email role company { id } } }`, nil)
	if len(g.Errors) > 0 {
		t.Fatalf("me: %+v", g.Errors)
	}
	if !strings.Contains(string(g.Data), `"role":"AGENT"`) {
		t.Errorf("me = %s", g.Data)
	}
}

func TestLogin_WrongPasswordAndUnknownEmailAreTheSame403(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	want := `{"statusCode":403,"message":"Login failed.please check the username and password and try again","error":"Forbidden"}`
	for name, body := range map[string]map[string]any{
		"wrong password": {"email": *agent.Email, "password": "wrong-password"},
		"unknown email":  {"email": "nobody@example.com", "password": testkit.Password},
	} {
		r := call(t, app, "POST", "/auth/login", "", body)
		if r.Status != http.StatusForbidden || strings.TrimSpace(string(r.Body)) != want {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}

func TestLogin_BadInputIs400(t *testing.T) {
	app := testkit.NewApp(t)
	for name, body := range map[string]any{
		"missing password": map[string]any{"email": "a@example.com"},
		"number password":  map[string]any{"email": "a@example.com", "password": 12345678},
		"not an object":    `[]`,
	} {
		r := call(t, app, "POST", "/auth/login", "", body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, r.Status, r.Body)
		}
	}
}

func TestLogin_RateLimitedAfterRepeatedAttempts(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.AuthRateLimit = 3 })
	body := map[string]any{"email": "victim@example.com", "password": "guess-guess"}
	for i := 0; i < 3; i++ {
		if r := call(t, app, "POST", "/auth/login", "", body); r.Status != http.StatusForbidden {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := call(t, app, "POST", "/auth/login", "", body)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: %d, want 429: %s", r.Status, r.Body)
	}
	if m := r.Map(t); m["statusCode"] != float64(429) || m["error"] != "Too Many Requests" {
		t.Errorf("error shape: %v", m)
	}
	// Another email from the same address is counted apart.
	if r := call(t, app, "POST", "/auth/login", "", map[string]any{"email": "other@example.com", "password": "guess-guess"}); r.Status != http.StatusForbidden {
		t.Errorf("other email: %d", r.Status)
	}
	// A minute later the window has passed.
	app.Clock.Set(app.Clock.Now().Add(61 * time.Second))
	if r := call(t, app, "POST", "/auth/login", "", body); r.Status != http.StatusForbidden {
		t.Errorf("after the window: %d", r.Status)
	}
}

func TestAuth_BadTokensAre401(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	now := app.Clock.Now()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"sub": "1", "cid": c.ID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	noExp := jwt.MapClaims{"sub": "1", "cid": c.ID, "iat": now.Unix()}
	expired := jwt.MapClaims{"sub": "1", "cid": c.ID, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}
	noneTok := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good)
	cases := map[string]string{
		"missing":      "",
		"garbage":      "not.a.token",
		"alg none":     noneTok,
		"wrong secret": sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), good),
		"HS512":        sign(jwt.SigningMethodHS512, testkit.Secret, good),
		"expired":      sign(jwt.SigningMethodHS256, testkit.Secret, expired),
		"no exp":       sign(jwt.SigningMethodHS256, testkit.Secret, noExp),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, app, "GET", "/template", tok, nil)
			if r.Status != http.StatusUnauthorized || strings.TrimSpace(string(r.Body)) != `{"statusCode":401,"message":"Unauthorized"}` {
				t.Errorf("%d %s", r.Status, r.Body)
			}
			g := app.GraphQL(tok, `{ me { id } }`, nil)
			if g.Code() != "UNAUTHENTICATED" {
				t.Errorf("graphql me: %+v", g.Errors)
			}
		})
	}
	// And a valid one passes.
	if r := call(t, app, "GET", "/template", app.Token(agent), nil); r.Status == http.StatusUnauthorized {
		t.Errorf("valid token refused: %s", r.Body)
	}
}
