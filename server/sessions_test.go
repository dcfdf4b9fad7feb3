package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// loginToken logs the agent in over REST and returns its access token.
func loginToken(t *testing.T, app *testkit.App, u *db.User) string {
	t.Helper()
	r := app.Do(http.MethodPost, "/auth/login", "", map[string]any{"email": *u.Email, "password": testkit.Password})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &out)
	if r.Status != 200 || out.AccessToken == "" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return out.AccessToken
}

// A logout on instance A is known on instance B within a second (its token is
// refused there) and B's websockets of that session close with 4403 within five,
// in both protocols.
func TestSessions_LogoutOnOneInstanceEndsTheSessionOnTheOther(t *testing.T) {
	a := testkit.NewApp(t)
	b := testkit.NewAppOn(t, a.DB)
	c := testkit.Company(t, a.DB)
	agent := testkit.Agent(t, a.DB, c.ID)
	tok := loginToken(t, a, agent)
	other := loginToken(t, a, agent)

	var sockets []*wsClient
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		cl, err := dialWS(t, b, proto, tok)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", messageAddedSub, nil)
		sockets = append(sockets, cl)
	}
	if r := b.Do(http.MethodGet, "/template", tok, nil); r.Status != 200 {
		t.Fatalf("before logout on B: %d", r.Status)
	}

	if r := a.Do(http.MethodPost, "/auth/logout", tok, nil); r.Status != 204 {
		t.Fatalf("logout on A: %d %s", r.Status, r.Body)
	}
	loggedOut := time.Now()
	if r := a.Do(http.MethodGet, "/template", tok, nil); r.Status != 401 {
		t.Fatalf("A still takes the token: %d", r.Status)
	}
	for {
		r := b.Do(http.MethodGet, "/template", tok, nil)
		if r.Status == 401 {
			break
		}
		if time.Since(loggedOut) > time.Second {
			t.Fatalf("B still takes the token a second after the logout: %d", r.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if res := b.GraphQL(tok, `{ me { id } }`, nil); res.Code() != "UNAUTHENTICATED" {
		t.Fatalf("GraphQL on B: %+v", res.Errors)
	}
	for _, cl := range sockets {
		_, err := cl.next(5*time.Second - time.Since(loggedOut))
		if code := closeStatus(err); code != 4403 {
			t.Fatalf("%s socket: closed with %v (%v), want 4403 within 5 s", cl.proto, code, err)
		}
	}
	// The agent's other session lives on, on both instances.
	for _, app := range []*testkit.App{a, b} {
		if r := app.Do(http.MethodGet, "/template", other, nil); r.Status != 200 {
			t.Fatalf("other session: %d", r.Status)
		}
	}
	// A new instance learns the revocation from the table at start.
	c3 := testkit.NewAppOn(t, a.DB)
	if r := c3.Do(http.MethodGet, "/template", tok, nil); r.Status != 401 {
		t.Fatalf("a new instance takes the token: %d", r.Status)
	}
	// A socket opened with a revoked token is refused at connection_init.
	if _, err := dialWS(t, b, "graphql-transport-ws", tok); closeStatus(err) != 4403 {
		t.Fatalf("dial with a revoked token: %v", err)
	}
}

// Checking the session costs no database statement: a request that needs none
// runs none.
func TestSessions_CheckIsInMemory(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	tok := loginToken(t, app, agent)
	counter := &countQueries{}
	db.AddStatementHook(app.DB, counter)
	before := counter.n.Load()
	res := app.GraphQL(tok, `{ apiInfo { name } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if n := counter.n.Load() - before; n != 0 {
		t.Fatalf("an authenticated request that reads nothing ran %d statements", n)
	}
}

// A revocation whose NOTIFY an instance missed (its listener was away) is read
// from the table when the listener is back.
func TestSessions_ListenerGapReloadsRevocations(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	tok := loginToken(t, app, agent)
	p, err := app.Resolver.Tokens.Parse(tok)
	if err != nil || p.SessionID == "" {
		t.Fatalf("token without session: %v", err)
	}
	// Revoked behind the bus's back: no NOTIFY, as if it had been lost.
	if _, err := app.DB.NewRaw("UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE id = ?", p.SessionID).
		Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := app.Do(http.MethodGet, "/template", tok, nil); r.Status != 200 {
		t.Fatalf("the instance cannot know yet: %d", r.Status)
	}
	pid := listeningPID(t, app)
	if _, err := app.DB.NewRaw("SELECT pg_terminate_backend(?)", pid).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if r := app.Do(http.MethodGet, "/template", tok, nil); r.Status == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation was not reloaded after the listener's gap")
		}
	}
}
