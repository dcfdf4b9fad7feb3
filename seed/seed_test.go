package seed_test

import (
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/seed"
	"github.com/connectme/connectme/testkit"
)

// The seed makes a team of three (OWNER, ADMIN, AGENT) who can all log in, once.
func TestRun_SeedsATeam(t *testing.T) {
	app := testkit.NewApp(t)
	for range 2 {
		if _, err := seed.Run(t.Context(), app.DB, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := seed.Run(t.Context(), app.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	agents, err := db.Agents(t.Context(), app.DB, res.CompanyID, true)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, a := range agents {
		roles[*a.Role]++
	}
	if len(agents) != 3 || roles[db.RoleOwner] != 1 || roles[db.RoleAdmin] != 1 || roles[db.RoleAgent] != 1 {
		t.Fatalf("team: %v", roles)
	}
	for _, email := range append([]string{res.Email}, res.Team...) {
		r := app.GraphQL("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			map[string]any{"e": email, "p": res.Password})
		if len(r.Errors) > 0 {
			t.Fatalf("login %s: %+v", email, r.Errors)
		}
	}
}
