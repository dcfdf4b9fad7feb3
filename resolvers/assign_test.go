package resolvers_test

import (
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

func TestAssignConversation_AssignsUnassignsAndPublishes(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	rec := record(t, app.Bus, tm.company.ID)
	var out struct{ AssignConversation workflowConv }
	gql(t, app, tm.agentTok, assignMutation, map[string]any{"c": id(conv.ID), "a": id(tm.admin.ID)}, &out)
	if a := out.AssignConversation.Assignee; a == nil || a.ID != id(tm.admin.ID) {
		t.Fatalf("assigned: %+v", out.AssignConversation)
	}
	gql(t, app, tm.agentTok, assignMutation, map[string]any{"c": id(conv.ID), "a": nil}, &out)
	if out.AssignConversation.Assignee != nil {
		t.Fatalf("unassigned: %+v", out.AssignConversation)
	}
	waitFor(t, 5*time.Second, "two conversationUpdated", func() bool { return rec.count(conv.ID) == 2 })
}

func TestAssignConversation_BadInputAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	other := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	foreign := testkit.Conversation(t, app.DB, other.company.ID, time.Time{})
	contact := testkit.Contact(t, app.DB, tm.company.ID)
	inactive := testkit.Agent(t, app.DB, tm.company.ID)
	if _, err := app.DB.NewRaw("UPDATE users SET active = false WHERE id = ?", inactive.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		conv, to any
		code     string
	}{
		{"a contact", id(conv.ID), id(contact.ID), "BAD_USER_INPUT"},
		{"an inactive agent", id(conv.ID), id(inactive.ID), "BAD_USER_INPUT"},
		{"a bad id", id(conv.ID), "abc", "BAD_USER_INPUT"},
		{"another company's agent", id(conv.ID), id(other.agent.ID), "FORBIDDEN"},
		{"no such user", id(conv.ID), "999999999", "FORBIDDEN"},
		{"another company's conversation", id(foreign.ID), id(tm.agent.ID), "FORBIDDEN"},
		{"another company's conversation, unassigning", id(foreign.ID), nil, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, tm.agentTok, assignMutation, map[string]any{"c": tc.conv, "a": tc.to}, tc.code)
		})
	}
	wantCode(t, app, tm.agentTok, claimMutation, map[string]any{"c": id(foreign.ID)}, "FORBIDDEN")
	var n int
	if err := app.DB.NewRaw("SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL").Scan(t.Context(), &n); err != nil || n != 0 {
		t.Fatalf("%d conversations assigned (%v), want none", n, err)
	}
}

func TestClaimConversation_MineOrUnassignedElseConflict(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	var out struct{ ClaimConversation workflowConv }
	gql(t, app, tm.agentTok, claimMutation, map[string]any{"c": id(conv.ID)}, &out)
	if a := out.ClaimConversation.Assignee; a == nil || a.ID != id(tm.agent.ID) {
		t.Fatalf("claimed: %+v", out.ClaimConversation)
	}
	gql(t, app, tm.agentTok, claimMutation, map[string]any{"c": id(conv.ID)}, &out) // already mine
	wantCode(t, app, tm.adminTok, claimMutation, map[string]any{"c": id(conv.ID)}, "CONFLICT")
}

// Of 20 agents claiming one conversation at once against PostgreSQL, exactly one
// wins; the others get CONFLICT.
func TestClaimConversation_ConcurrentClaimsOneWinner(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	const n = 20
	toks := make([]string, n)
	for i := range toks {
		toks[i] = app.Token(testkit.Agent(t, app.DB, tm.company.ID))
	}
	var wg sync.WaitGroup
	codes := make([]string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			res := app.GraphQL(toks[i], claimMutation, map[string]any{"c": id(conv.ID)})
			codes[i] = res.Code()
		})
	}
	close(start)
	wg.Wait()
	wins, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			wins++
		case "CONFLICT":
			conflicts++
		default:
			t.Errorf("unexpected code %q", c)
		}
	}
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins, conflicts, n-1)
	}
}

func TestDeactivatingAnAgentUnassignsItsConversations(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	a, b := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{}), testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	other := testkit.Conversation(t, app.DB, tm.company.ID, time.Time{})
	// Recording from the start, and waiting for the claims' own announcements, so a
	// claim's event that arrives late is not taken for the deactivation's.
	rec := record(t, app.Bus, tm.company.ID)
	for _, c := range []int64{a.ID, b.ID} {
		gql(t, app, tm.agentTok, claimMutation, map[string]any{"c": id(c)}, nil)
	}
	gql(t, app, tm.adminTok, claimMutation, map[string]any{"c": id(other.ID)}, nil)
	waitFor(t, 5*time.Second, "the claims announced", func() bool {
		return rec.count(a.ID) == 1 && rec.count(b.ID) == 1 && rec.count(other.ID) == 1
	})
	gql(t, app, tm.adminTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": id(tm.agent.ID), "active": false}}, nil)
	var left []int64
	if err := app.DB.NewRaw("SELECT id FROM conversations WHERE assignee_id IS NOT NULL").Scan(t.Context(), &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != other.ID {
		t.Fatalf("still assigned: %v, want only %d", left, other.ID)
	}
	waitFor(t, 5*time.Second, "conversationUpdated for both", func() bool { return rec.count(a.ID) == 2 && rec.count(b.ID) == 2 })
	if rec.count(other.ID) != 1 {
		t.Fatal("the admin's conversation was announced")
	}
	// The deactivated agent cannot be given new work.
	wantCode(t, app, tm.adminTok, assignMutation, map[string]any{"c": id(a.ID), "a": id(tm.agent.ID)}, "BAD_USER_INPUT")
}
