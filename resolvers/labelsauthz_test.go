package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

// Every label and canned-response operation on company A's rows, tried as A's
// OWNER, ADMIN and AGENT, as B's AGENT and B's OWNER (another tenant: its ids are
// FORBIDDEN whatever its role), and as nobody.
func TestLabelsAndCannedAuthorization_EveryOperationAsEveryCaller(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTeam(t, app), newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, time.Now())
	bConv := testkit.Conversation(t, app.DB, b.company.ID, time.Now())
	bCanned := createCanned(t, app, b.adminTok, "theirs", "B's reply")
	bLabel := addLabels(t, app, b.agentTok, bConv, "theirs")[0]
	n := 0
	fresh := func() string { n++; return fmt.Sprint("x", n) }
	aLabel := func(t *testing.T) string {
		name := fresh()
		for _, l := range addLabels(t, app, a.agentTok, conv, name) {
			if l.Name == name {
				return l.ID
			}
		}
		t.Fatalf("label %s not added", name)
		return ""
	}
	aCanned := func(t *testing.T) string {
		return createCanned(t, app, a.adminTok, fresh(), "Hi {{contact.firstName}}").ID
	}
	cid := fmt.Sprint(conv.ID)

	callers := []string{"A OWNER", "A ADMIN", "A AGENT", "B AGENT", "B OWNER", "anonymous"}
	tokens := []string{a.ownerTok, a.adminTok, a.agentTok, b.agentTok, b.ownerTok, ""}
	const U, F = "UNAUTHENTICATED", "FORBIDDEN"
	type op struct {
		name  string
		query string
		vars  func(t *testing.T) map[string]any
		want  [6]string
	}
	ops := []op{
		{"labels", labelsQuery, func(*testing.T) map[string]any { return nil }, [6]string{"", "", "", "", "", U}},
		{"addLabels", addLabelsMutation, func(*testing.T) map[string]any {
			return map[string]any{"id": cid, "names": []string{fresh()}}
		}, [6]string{"", "", "", F, F, U}},
		{"removeLabels", removeLabelsMutation, func(*testing.T) map[string]any {
			return map[string]any{"id": cid, "names": []string{"x1"}}
		}, [6]string{"", "", "", F, F, U}},
		{"updateLabel", updateLabelMutation, func(t *testing.T) map[string]any {
			return map[string]any{"id": aLabel(t), "color": "#000000"}
		}, [6]string{"", "", F, F, F, U}},
		{"deleteLabel", deleteLabelMutation, func(t *testing.T) map[string]any {
			return map[string]any{"id": aLabel(t)}
		}, [6]string{"", "", F, F, F, U}},
		{"cannedResponses", cannedQuery, func(*testing.T) map[string]any { return nil }, [6]string{"", "", "", "", "", U}},
		{"createCannedResponse", createCannedMutation, func(*testing.T) map[string]any {
			return map[string]any{"in": map[string]any{"shortCode": fresh(), "content": "c"}}
		}, [6]string{"", "", F, F, "", U}},
		{"updateCannedResponse", updateCannedMutation, func(t *testing.T) map[string]any {
			return map[string]any{"in": map[string]any{"id": aCanned(t), "content": "changed"}}
		}, [6]string{"", "", F, F, F, U}},
		{"deleteCannedResponse", deleteCannedMutation, func(t *testing.T) map[string]any {
			return map[string]any{"id": aCanned(t)}
		}, [6]string{"", "", F, F, F, U}},
		{"renderCannedResponse", renderCannedQuery, func(t *testing.T) map[string]any {
			return map[string]any{"id": aCanned(t), "c": cid}
		}, [6]string{"", "", "", F, F, U}},
		// Mixed: one of the two ids is another company's.
		{"renderCannedResponse of B's canned response", renderCannedQuery, func(*testing.T) map[string]any {
			return map[string]any{"id": bCanned.ID, "c": cid}
		}, [6]string{F, F, F, F, F, U}},
		{"renderCannedResponse into B's conversation", renderCannedQuery, func(t *testing.T) map[string]any {
			return map[string]any{"id": aCanned(t), "c": fmt.Sprint(bConv.ID)}
		}, [6]string{F, F, F, F, F, U}},
		{"updateLabel of B's label", updateLabelMutation, func(*testing.T) map[string]any {
			return map[string]any{"id": bLabel.ID, "color": "#123456"}
		}, [6]string{F, F, F, "", "", U}},
		{"an unknown label id", deleteLabelMutation, func(*testing.T) map[string]any {
			return map[string]any{"id": "999999999"}
		}, [6]string{F, F, F, F, F, U}},
	}
	for _, o := range ops {
		for i, caller := range callers {
			want := o.want[i]
			// B's AGENT may not change B's own label either (role, not tenancy).
			if o.name == "updateLabel of B's label" && caller == "B AGENT" {
				want = F
			}
			t.Run(o.name+"/"+caller, func(t *testing.T) {
				res := app.GraphQL(tokens[i], o.query, o.vars(t))
				if got := res.Code(); got != want {
					t.Fatalf("want %q, got %q: %+v %s", want, got, res.Errors, res.Data)
				}
			})
		}
	}
	// B's rows are untouched by everything A tried, and A's by B.
	if ls := labelsOf(t, app, b.agentTok); len(ls) != 1 || ls[0].Name != "theirs" {
		t.Fatalf("B's labels %+v", ls)
	}
	if got := cannedCodes(t, app, b.agentTok, "theirs"); got != "theirs" {
		t.Fatal("B's canned responses are gone")
	}
}
