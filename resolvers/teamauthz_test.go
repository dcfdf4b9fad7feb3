package resolvers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// Every team and session operation, tried as each kind of caller: the OWNER, an
// ADMIN and an AGENT of the company, a deactivated agent (its token was ended by
// the deactivation), an AGENT and the OWNER of another company, and nobody.
func TestTeamAuthorization_EveryOperationAsEveryCaller(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	deactivated := testkit.Agent(t, app.DB, tm.company.ID)
	deactivatedSession := login(t, app, deactivated)
	gql(t, app, tm.ownerTok, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(deactivated.ID), "active": false}}, nil)
	foreign := testkit.Company(t, app.DB)
	foreignAgent := testkit.Agent(t, app.DB, foreign.ID)
	foreignOwner := testkit.Agent(t, app.DB, foreign.ID)
	withRole(t, app, foreignOwner, db.RoleOwner)

	const (
		owner = iota
		admin
		agent
		inactive
		foreignAgentCaller
		foreignOwnerCaller
		anonymous
	)
	callerNames := []string{"OWNER", "ADMIN", "AGENT", "deactivated", "foreign AGENT", "foreign OWNER", "anonymous"}
	users := []*db.User{tm.owner, tm.admin, tm.agent, deactivated, foreignAgent, foreignOwner, nil}
	// session signs the caller in afresh (each cell may end its session).
	session := func(t *testing.T, who int) authPayload {
		switch who {
		case inactive:
			return deactivatedSession
		case anonymous:
			return authPayload{RefreshToken: "none"}
		}
		return login(t, app, users[who])
	}
	victim := func(t *testing.T) *db.User { return testkit.Agent(t, app.DB, tm.company.ID) }
	pending := func(t *testing.T) invitation {
		// A fresh OWNER session: the OWNER's rows of logout end its others.
		return invite(t, app, login(t, app, tm.owner).Token, fmt.Sprintf("inv%d@example.com", victim(t).ID), "AGENT")
	}

	type op struct {
		name string
		run  func(t *testing.T, s authPayload) (code string, data string)
		// want is the code per caller ("" is success).
		want [7]string
	}
	gqlRun := func(tok, q string, vars map[string]any) (string, string) {
		res := app.GraphQL(tok, q, vars)
		return res.Code(), string(res.Data)
	}
	const U, F, N, B = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT"
	ops := []op{
		{"agents", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, `{ agents(includeInactive: true) { id } }`, nil)
		}, [7]string{"", "", "", U, "", "", U}},
		{"invitations", func(t *testing.T, s authPayload) (string, string) {
			pending(t)
			return gqlRun(s.Token, `{ invitations { id email } }`, nil)
		}, [7]string{"", "", F, U, F, "", U}},
		{"inviteAgent", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, inviteMutation, map[string]any{"in": map[string]any{"email": fmt.Sprintf("n%d@example.com", victim(t).ID),
				"firstName": "N", "lastName": "M", "role": "ADMIN"}})
		}, [7]string{"", "", F, U, F, "", U}},
		{"revokeInvitation", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, `mutation($id: ID!) { revokeInvitation(id: $id) }`, map[string]any{"id": pending(t).ID})
		}, [7]string{"", "", F, U, F, N, U}},
		{"updateAgent deactivate", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(victim(t).ID), "active": false}})
		}, [7]string{"", "", F, U, F, N, U}},
		{"updateAgent role", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(victim(t).ID), "role": "ADMIN"}})
		}, [7]string{"", "", F, U, F, N, U}},
		{"updateAgent the OWNER", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(tm.owner.ID), "active": false}})
		}, [7]string{F, F, F, U, F, N, U}},
		{"updateAgent give OWNER", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, updateAgentMutation, map[string]any{"in": map[string]any{"id": fmt.Sprint(victim(t).ID), "role": "OWNER"}})
		}, [7]string{B, B, F, U, F, B, U}},
		{"logout", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, `mutation { logout }`, nil)
		}, [7]string{"", "", "", U, "", "", U}},
		{"logout all", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, `mutation { logout(allSessions: true) }`, nil)
		}, [7]string{"", "", "", U, "", "", U}},
		{"changePassword", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun(s.Token, changePassword, map[string]any{"c": testkit.Password, "n": testkit.Password})
		}, [7]string{"", "", "", U, "", "", U}},
		{"refreshSession", func(t *testing.T, s authPayload) (string, string) {
			return gqlRun("", refreshMutation, map[string]any{"r": s.RefreshToken})
		}, [7]string{"", "", "", U, "", "", U}},
		{"acceptInvitation", func(t *testing.T, s authPayload) (string, string) {
			// Any bearer is ignored: the invitation token is the credential. (The
			// new agent's company field follows User.company's rule, so it is not
			// asked here.)
			return gqlRun(s.Token, `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token user { id role } } }`,
				accept(*pending(t).Token, "a-good-password"))
		}, [7]string{"", "", "", "", "", "", ""}},
	}
	for _, o := range ops {
		for who, name := range callerNames {
			t.Run(o.name+"/"+name, func(t *testing.T) {
				code, data := o.run(t, session(t, who))
				if code != o.want[who] {
					t.Fatalf("code %q, want %q (data %s)", code, o.want[who], data)
				}
				// Another company's caller never sees this company's agents.
				if code == "" && (who == foreignAgentCaller || who == foreignOwnerCaller) &&
					(strings.Contains(data, fmt.Sprintf(`"id":"%d"`, tm.agent.ID)) || strings.Contains(data, `"email":"inv`)) {
					t.Fatalf("foreign caller sees the company: %s", data)
				}
			})
		}
	}
	// The OWNER is untouched whatever was tried.
	var me struct{ Me struct{ Role string } }
	gql(t, app, login(t, app, tm.owner).Token, `{ me { role } }`, nil, &me)
	if me.Me.Role != "OWNER" {
		t.Fatalf("the OWNER is now %q", me.Me.Role)
	}
}
