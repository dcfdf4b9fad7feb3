package resolvers_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

const inviteMutation = `mutation($in: InviteAgentInput!) { inviteAgent(input: $in) { id email firstName lastName role expiresAt token invitedBy { id } } }`
const acceptMutation = `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token refreshToken user { id role active displayName company { id } } } }`
const updateAgentMutation = `mutation($in: UpdateAgentInput!) { updateAgent(input: $in) { id role active } }`

// team is a company with an OWNER, an ADMIN and an AGENT, each signed in.
type team struct {
	company             *db.Company
	owner, admin, agent *db.User
	ownerTok, adminTok  string
	agentTok            string
}

func withRole(t *testing.T, app *testkit.App, u *db.User, role string) {
	t.Helper()
	if _, err := app.DB.NewRaw("UPDATE users SET role = ? WHERE id = ?", role, u.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	u.Role = &role
}

func newTeam(t *testing.T, app *testkit.App) team {
	t.Helper()
	c := testkit.Company(t, app.DB)
	tm := team{company: c, owner: testkit.Agent(t, app.DB, c.ID), admin: testkit.Agent(t, app.DB, c.ID),
		agent: testkit.Agent(t, app.DB, c.ID)}
	withRole(t, app, tm.owner, db.RoleOwner)
	withRole(t, app, tm.admin, db.RoleAdmin)
	tm.ownerTok = login(t, app, tm.owner).Token
	tm.adminTok = login(t, app, tm.admin).Token
	tm.agentTok = login(t, app, tm.agent).Token
	return tm
}

type invitation struct {
	ID        string
	Email     string
	Role      string
	ExpiresAt time.Time
	Token     *string
	InvitedBy struct{ ID string }
}

func invite(t *testing.T, app *testkit.App, tok, email, role string) invitation {
	t.Helper()
	var out struct{ InviteAgent invitation }
	gql(t, app, tok, inviteMutation, map[string]any{"in": map[string]any{"email": email, "firstName": "New", "lastName": "Agent", "role": role}}, &out)
	return out.InviteAgent
}

func accept(token, password string) map[string]any {
	return map[string]any{"in": map[string]any{"token": token, "password": password}}
}

func TestInvitation_InviteListAcceptLogin(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	inv := invite(t, app, tm.adminTok, "New.Person@example.com", "AGENT")
	if inv.Token == nil || len(*inv.Token) < 22 || inv.Role != "AGENT" || inv.InvitedBy.ID != fmt.Sprint(tm.admin.ID) {
		t.Fatalf("invitation: %+v", inv)
	}
	if d := time.Until(inv.ExpiresAt); d < 7*24*time.Hour-time.Hour || d > 7*24*time.Hour+time.Hour {
		t.Fatalf("expires in %s, want 7 days", d)
	}
	var list struct{ Invitations []invitation }
	gql(t, app, tm.ownerTok, `{ invitations { id email role token invitedBy { id } } }`, nil, &list)
	if len(list.Invitations) != 1 || list.Invitations[0].Token != nil || list.Invitations[0].ID != inv.ID {
		t.Fatalf("invitations: %+v", list.Invitations)
	}
	// Only the hash is stored.
	var clear int
	if err := app.DB.NewRaw("SELECT count(*) FROM invitations WHERE position(convert_to(?, 'UTF8') in token_hash) > 0", *inv.Token).
		Scan(t.Context(), &clear); err != nil || clear != 0 {
		t.Fatalf("token stored in clear: %d %v", clear, err)
	}
	var out struct{ AcceptInvitation authPayload }
	gql(t, app, "", acceptMutation, accept(*inv.Token, "a-good-password"), &out)
	if out.AcceptInvitation.User.Role != "AGENT" || out.AcceptInvitation.RefreshToken == "" ||
		out.AcceptInvitation.User.DisplayName != "New Agent" {
		t.Fatalf("accepted: %+v", out.AcceptInvitation)
	}
	var agents struct {
		Agents []struct{ ID, Email string }
	}
	gql(t, app, out.AcceptInvitation.Token, `{ agents { id email } }`, nil, &agents)
	if len(agents.Agents) != 4 {
		t.Fatalf("agents: %+v", agents.Agents)
	}
	// Used: the same message as any bad token; login works with the new password.
	res := app.GraphQL("", acceptMutation, accept(*inv.Token, "a-good-password"))
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Message != resolvers.InvalidInvitationMessage {
		t.Fatalf("second accept: %+v", res.Errors)
	}
	gql(t, app, "", loginMutation, map[string]any{"e": "new.person@example.com", "p": "a-good-password"}, nil)
	gql(t, app, tm.ownerTok, `{ invitations { id } }`, nil, &list)
	if len(list.Invitations) != 0 {
		t.Fatalf("an accepted invitation is still pending: %+v", list.Invitations)
	}
}

func TestInvitation_BadTokensShareOneMessage(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	replaced := invite(t, app, tm.ownerTok, "a@example.com", "AGENT")
	invite(t, app, tm.ownerTok, "a@example.com", "ADMIN") // replaces it
	revoked := invite(t, app, tm.ownerTok, "b@example.com", "AGENT")
	var ok struct{ RevokeInvitation bool }
	gql(t, app, tm.ownerTok, `mutation($id: ID!) { revokeInvitation(id: $id) }`, map[string]any{"id": revoked.ID}, &ok)
	if !ok.RevokeInvitation {
		t.Fatal("revokeInvitation answered false")
	}
	expired := invite(t, app, tm.ownerTok, "c@example.com", "AGENT")
	used := invite(t, app, tm.ownerTok, "d@example.com", "AGENT")
	gql(t, app, "", acceptMutation, accept(*used.Token, "a-good-password"), nil)
	app.Clock.Set(app.Clock.Now().Add(7*24*time.Hour + time.Minute))
	for name, tok := range map[string]string{
		"unknown": "bm90LWEtcmVhbC1pbnZpdGF0aW9uLXRva2VuLWF0LWFsbA", "empty": "", "huge": strings.Repeat("x", 4000),
		"replaced": *replaced.Token, "revoked": *revoked.Token, "expired": *expired.Token, "used": *used.Token,
	} {
		t.Run(name, func(t *testing.T) {
			res := app.GraphQL("", acceptMutation, accept(tok, "a-good-password"))
			if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Message != resolvers.InvalidInvitationMessage {
				t.Fatalf("%+v", res.Errors)
			}
		})
	}
}

func TestInvitation_RefusedPasswordDoesNotUseTheToken(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	inv := invite(t, app, tm.ownerTok, "p@example.com", "ADMIN")
	for name, in := range map[string]map[string]any{
		"short password": {"token": *inv.Token, "password": "short"},
		"long password":  {"token": *inv.Token, "password": strings.Repeat("p", 73)},
		"bad phone":      {"token": *inv.Token, "password": "a-good-password", "phone": "not a phone"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, app, "", acceptMutation, map[string]any{"in": in}, "BAD_USER_INPUT")
		})
	}
	var out struct{ AcceptInvitation authPayload }
	gql(t, app, "", acceptMutation, map[string]any{"in": map[string]any{"token": *inv.Token, "password": "a-good-password", "phone": "+94 77 123 4567"}}, &out)
	if out.AcceptInvitation.User.Role != "ADMIN" {
		t.Fatalf("accepted: %+v", out.AcceptInvitation)
	}
}

func TestInvitation_ConcurrentAcceptsOneWins(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	inv := invite(t, app, tm.ownerTok, "race@example.com", "AGENT")
	const n = 4
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = app.GraphQL("", acceptMutation, accept(*inv.Token, "a-good-password")).Code() })
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		if c == "" {
			won++
		} else if c != "BAD_USER_INPUT" {
			t.Fatalf("code %q", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d accepts succeeded: %v", won, codes)
	}
}

func TestInviteAgent_BadInput(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	other := testkit.Agent(t, app.DB, testkit.Company(t, app.DB).ID)
	for name, c := range map[string]struct {
		in   map[string]any
		code string
	}{
		"role OWNER":         {map[string]any{"email": "x@example.com", "firstName": "X", "lastName": "Y", "role": "OWNER"}, "BAD_USER_INPUT"},
		"not an email":       {map[string]any{"email": "nope", "firstName": "X", "lastName": "Y", "role": "AGENT"}, "BAD_USER_INPUT"},
		"empty first name":   {map[string]any{"email": "x@example.com", "firstName": " ", "lastName": "Y", "role": "AGENT"}, "BAD_USER_INPUT"},
		"control characters": {map[string]any{"email": "x@example.com", "firstName": "X\x00", "lastName": "Y", "role": "AGENT"}, "BAD_USER_INPUT"},
		"unknown role":       {map[string]any{"email": "x@example.com", "firstName": "X", "lastName": "Y", "role": "BOSS"}, "GRAPHQL_VALIDATION_FAILED"},
		"an agent's email":   {map[string]any{"email": *tm.agent.Email, "firstName": "X", "lastName": "Y", "role": "AGENT"}, "CONFLICT"},
		"another company's":  {map[string]any{"email": strings.ToUpper(*other.Email), "firstName": "X", "lastName": "Y", "role": "AGENT"}, "CONFLICT"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, app, tm.ownerTok, inviteMutation, map[string]any{"in": c.in}, c.code)
		})
	}
	wantCode(t, app, tm.ownerTok, `mutation { revokeInvitation(id: "999999") }`, nil, "NOT_FOUND")
	wantCode(t, app, tm.ownerTok, `mutation { revokeInvitation(id: "x") }`, nil, "BAD_USER_INPUT")
}

func TestUpdateAgent_Rules(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	other := testkit.Agent(t, app.DB, testkit.Company(t, app.DB).ID)
	id := func(u *db.User) string { return fmt.Sprint(u.ID) }
	for name, c := range map[string]struct {
		tok  string
		in   map[string]any
		code string
	}{
		"neither field":           {tm.adminTok, map[string]any{"id": id(tm.agent)}, "BAD_USER_INPUT"},
		"give OWNER":              {tm.ownerTok, map[string]any{"id": id(tm.agent), "role": "OWNER"}, "BAD_USER_INPUT"},
		"admin changes the owner": {tm.adminTok, map[string]any{"id": id(tm.owner), "role": "AGENT"}, "FORBIDDEN"},
		"owner changes itself":    {tm.ownerTok, map[string]any{"id": id(tm.owner), "active": false}, "FORBIDDEN"},
		"admin own role":          {tm.adminTok, map[string]any{"id": id(tm.admin), "role": "AGENT"}, "BAD_USER_INPUT"},
		"admin deactivates self":  {tm.adminTok, map[string]any{"id": id(tm.admin), "active": false}, "BAD_USER_INPUT"},
		"agent changes anyone":    {tm.agentTok, map[string]any{"id": id(tm.admin), "active": false}, "FORBIDDEN"},
		"another company's agent": {tm.ownerTok, map[string]any{"id": id(other), "active": false}, "NOT_FOUND"},
		"bad id":                  {tm.ownerTok, map[string]any{"id": "abc", "active": false}, "BAD_USER_INPUT"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, app, c.tok, updateAgentMutation, map[string]any{"in": c.in}, c.code)
		})
	}
	// Nothing was changed: every session still works.
	for _, tok := range []string{tm.ownerTok, tm.adminTok, tm.agentTok} {
		gql(t, app, tok, meQuery, nil, nil)
	}
}

func TestUpdateAgent_DeactivateAndRoleChangeEndSessions(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	agentSession := login(t, app, tm.agent)
	var out struct {
		UpdateAgent struct {
			Role   string
			Active bool
		}
	}
	gql(t, app, tm.adminTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(tm.agent.ID), "active": false}}, &out)
	if out.UpdateAgent.Active {
		t.Fatal("still active")
	}
	wantCode(t, app, tm.agentTok, meQuery, nil, "UNAUTHENTICATED")
	wantCode(t, app, "", refreshMutation, map[string]any{"r": agentSession.RefreshToken}, "UNAUTHENTICATED")
	// A deactivated agent cannot log in: the wrong password's 403, word for word.
	res := app.GraphQL("", loginMutation, map[string]any{"e": *tm.agent.Email, "p": testkit.Password})
	wrong := app.GraphQL("", loginMutation, map[string]any{"e": *tm.agent.Email, "p": "wrong-password"})
	if res.Code() != "FORBIDDEN" || res.Errors[0].Message != wrong.Errors[0].Message {
		t.Fatalf("deactivated login: %+v vs %+v", res.Errors, wrong.Errors)
	}
	var agents struct{ Agents []struct{ ID string } }
	gql(t, app, tm.ownerTok, `{ agents { id } }`, nil, &agents)
	if len(agents.Agents) != 2 {
		t.Fatalf("agents without inactive: %+v", agents.Agents)
	}
	gql(t, app, tm.ownerTok, `{ agents(includeInactive: true) { id active } }`, nil, &agents)
	if len(agents.Agents) != 3 {
		t.Fatalf("agents with inactive: %+v", agents.Agents)
	}
	// Reactivated: it logs in again, but the ended sessions stay ended.
	gql(t, app, tm.ownerTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(tm.agent.ID), "active": true}}, nil)
	wantCode(t, app, tm.agentTok, meQuery, nil, "UNAUTHENTICATED")
	fresh := login(t, app, tm.agent)

	// A role change ends the sessions too; the new login carries the new role.
	gql(t, app, tm.ownerTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(tm.agent.ID), "role": "ADMIN"}}, &out)
	if out.UpdateAgent.Role != "ADMIN" {
		t.Fatalf("role: %+v", out.UpdateAgent)
	}
	wantCode(t, app, fresh.Token, meQuery, nil, "UNAUTHENTICATED")
	promoted := login(t, app, tm.agent)
	if promoted.User.Role != "ADMIN" {
		t.Fatalf("role after login: %+v", promoted.User)
	}
	gql(t, app, promoted.Token, `{ invitations { id } }`, nil, nil)
	// Setting the same role again ends nothing.
	gql(t, app, tm.ownerTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(tm.agent.ID), "role": "ADMIN"}}, nil)
	gql(t, app, promoted.Token, meQuery, nil, nil)
}
