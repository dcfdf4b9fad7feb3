package server_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/testkit"
)

func TestReadyz_OKWithDatabase(t *testing.T) {
	app := testkit.NewApp(t)
	if r := app.Do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if r := app.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("healthz: %d %s", r.Status, r.Body)
	}
}

func TestReadyz_503WhenDatabaseUnreachable(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	bdb, err := db.Open("postgres://postgres@" + addr + "/connectme?sslmode=disable&dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	cfg, _ := config.Load(func(string) string { return "" })
	log := logging.New(io.Discard, slog.LevelError)
	res := &resolvers.Resolver{DB: bdb, Tokens: auth.NewTokens([]byte("x"), 0, nil), Log: log}
	srv := httptest.NewServer(server.New(server.Deps{Config: cfg, DB: bdb, Resolver: res, Log: log}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz must not depend on the database: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
}

func TestRoot_InfoAndUnknownPaths(t *testing.T) {
	app := testkit.NewApp(t)
	r := app.Do("GET", "/", "", nil)
	m := r.Map(t)
	if r.Status != 200 || m["name"] != "CONNECTME API" || m["version"] != "1.2" || m["graphql"] != "/graphql" {
		t.Errorf("GET /: %d %v", r.Status, m)
	}
	r = app.Do("GET", "/no/such/path", "", nil)
	if m := r.Map(t); r.Status != 404 || m["statusCode"] != float64(404) || m["error"] != "Not Found" {
		t.Errorf("unknown path: %d %s", r.Status, r.Body)
	}
	r = app.Do("DELETE", "/auth/login", "", nil)
	if m := r.Map(t); r.Status != 405 || m["statusCode"] != float64(405) {
		t.Errorf("wrong method: %d %s", r.Status, r.Body)
	}
}

func TestRequestID_EchoedAndGenerated(t *testing.T) {
	app := testkit.NewApp(t)
	r := app.Do("GET", "/healthz", "", nil, "X-Request-ID", "abc-123")
	if got := r.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("echoed id = %q", got)
	}
	r = app.Do("GET", "/healthz", "", nil, "X-Request-ID", "bad id\twith junk")
	if got := r.Header.Get("X-Request-ID"); got == "" || strings.Contains(got, " ") {
		t.Errorf("generated id = %q", got)
	}
}

func TestGraphQL_SignupLoginAndMe(t *testing.T) {
	app := testkit.NewApp(t)
	g := app.GraphQL("", `mutation($in: SignupInput!) { signup(input: $in) { token expiresAt user { id email role company { name } } } }`,
		map[string]any{"in": map[string]any{"firstName": "Ann", "lastName": "Lee", "phone": "+94717936775",
			"email": "ann@example.com", "password": "long-enough", "companyName": "Ann Co"}})
	if len(g.Errors) > 0 {
		t.Fatalf("signup: %+v", g.Errors)
	}
	if !strings.Contains(string(g.Data), `"role":"OWNER"`) || !strings.Contains(string(g.Data), `"name":"Ann Co"`) {
		t.Errorf("signup data: %s", g.Data)
	}
	g = app.GraphQL("", `mutation { login(email: "ann@example.com", password: "wrong-one") { token } }`, nil)
	if g.Code() != "FORBIDDEN" {
		t.Errorf("bad login code: %+v", g.Errors)
	}
	g = app.GraphQL("", `mutation { login(email: "ann@example.com", password: "long-enough") { token user { firstName } } }`, nil)
	var data struct {
		Login struct {
			Token string
		}
	}
	if err := jsonUnmarshal(g.Data, &data); err != nil || data.Login.Token == "" {
		t.Fatalf("login: %s %+v", g.Data, g.Errors)
	}
	g = app.GraphQL(data.Login.Token, `{ me { firstName email } apiInfo { name version } }`, nil)
	if len(g.Errors) > 0 || !strings.Contains(string(g.Data), `"firstName":"Ann"`) || !strings.Contains(string(g.Data), `"version":"1.2"`) {
		t.Errorf("me: %s %+v", g.Data, g.Errors)
	}
	// Duplicate signup is CONFLICT, bad input BAD_USER_INPUT.
	g = app.GraphQL("", `mutation { signup(input: {firstName: "A", lastName: "B", phone: "+94717936775", email: "ann@example.com", password: "long-enough", companyName: "X"}) { token } }`, nil)
	if g.Code() != "CONFLICT" {
		t.Errorf("duplicate: %+v", g.Errors)
	}
	g = app.GraphQL("", `mutation { signup(input: {firstName: "A", lastName: "B", phone: "0717", email: "x", password: "short", companyName: "X"}) { token } }`, nil)
	if g.Code() != "BAD_USER_INPUT" {
		t.Errorf("bad input: %+v", g.Errors)
	}
}
