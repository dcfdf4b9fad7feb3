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

// The demo inbox has a mix of statuses and assignees, and one note; a second run
// changes none of it.
func TestRun_SeedsTheWorkflow(t *testing.T) {
	app := testkit.NewApp(t)
	for range 2 {
		if _, err := seed.Run(t.Context(), app.DB, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		Status   string `bun:"status"`
		Assigned bool   `bun:"assigned"`
		Snoozed  bool   `bun:"snoozed"`
	}
	if err := app.DB.NewRaw(`SELECT status, assignee_id IS NOT NULL AS assigned, snoozed_until IS NOT NULL AS snoozed
		FROM conversations ORDER BY id`).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	statuses, assigned := map[string]int{}, 0
	for _, r := range rows {
		statuses[r.Status]++
		if r.Assigned {
			assigned++
		}
		if r.Snoozed != (r.Status == db.ConversationSnoozed) {
			t.Errorf("row %+v", r)
		}
	}
	if len(rows) != 4 || statuses["OPEN"] != 2 || statuses["SNOOZED"] != 1 || statuses["RESOLVED"] != 1 || assigned != 3 {
		t.Fatalf("statuses %v, %d assigned", statuses, assigned)
	}
	var notes int
	if err := app.DB.NewRaw("SELECT count(*) FROM messages WHERE message_type = 'NOTE'").Scan(t.Context(), &notes); err != nil || notes != 1 {
		t.Fatalf("%d notes (%v), want 1", notes, err)
	}
}

// The seed labels demo conversations and stores three canned responses, once.
func TestRun_SeedsLabelsAndCannedResponses(t *testing.T) {
	app := testkit.NewApp(t)
	var res *seed.Result
	for range 2 {
		var err error
		if res, err = seed.Run(t.Context(), app.DB, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	labels, err := db.Labels(t.Context(), app.DB, res.CompanyID)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 3 || labels[0].Name != "billing" || labels[2].Name != "VIP" || labels[2].Color != "#f5a623" {
		t.Fatalf("labels %+v", labels)
	}
	counts, err := db.LabelConversationCounts(t.Context(), app.DB, res.CompanyID, []int64{labels[0].ID, labels[1].ID, labels[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if counts[labels[0].ID] != 1 || counts[labels[1].ID] != 3 || counts[labels[2].ID] != 1 {
		t.Fatalf("counts %v", counts)
	}
	canned, err := db.CannedResponses(t.Context(), app.DB, res.CompanyID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(canned) != 3 {
		t.Fatalf("canned responses %+v", canned)
	}
}
