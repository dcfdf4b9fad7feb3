package resolvers_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
)

const addLabelsMutation = `mutation($id: ID!, $names: [String!]!) { addLabels(conversationId: $id, names: $names) { id labels { id name color conversationCount } } }`
const removeLabelsMutation = `mutation($id: ID!, $names: [String!]!) { removeLabels(conversationId: $id, names: $names) { id labels { id name } } }`
const updateLabelMutation = `mutation($id: ID!, $name: String, $color: String) { updateLabel(id: $id, name: $name, color: $color) { id name color conversationCount } }`
const deleteLabelMutation = `mutation($id: ID!) { deleteLabel(id: $id) }`
const labelsQuery = `{ labels { id name color conversationCount } }`

type label struct {
	ID                string
	Name              string
	Color             string
	ConversationCount int
}

func addLabels(t *testing.T, app *testkit.App, tok string, conv *db.Conversation, names ...string) []label {
	t.Helper()
	var out struct{ AddLabels struct{ Labels []label } }
	gql(t, app, tok, addLabelsMutation, map[string]any{"id": fmt.Sprint(conv.ID), "names": names}, &out)
	return out.AddLabels.Labels
}

func labelsOf(t *testing.T, app *testkit.App, tok string) []label {
	t.Helper()
	var out struct{ Labels []label }
	gql(t, app, tok, labelsQuery, nil, &out)
	return out.Labels
}

func names(ls []label) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return strings.Join(out, ",")
}

func TestAddLabels_CreatesOnFirstUseOneLabelPerNameWhateverTheCase(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	c1 := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	c2 := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())

	got := addLabels(t, app, tm.agentTok, c1, "  VIP ", "billing", "vip")
	if names(got) != "billing,VIP" || got[1].Color != "#1f93ff" || got[1].ConversationCount != 1 {
		t.Fatalf("labels %+v", got)
	}
	got = addLabels(t, app, tm.agentTok, c2, "vip", "Ünïcödé label")
	if names(got) != "VIP,Ünïcödé label" || got[0].ConversationCount != 2 {
		t.Fatalf("the second conversation's labels %+v", got)
	}
	all := labelsOf(t, app, tm.agentTok)
	if names(all) != "billing,VIP,Ünïcödé label" || all[1].ConversationCount != 2 || all[0].ConversationCount != 1 {
		t.Fatalf("company labels %+v", all)
	}
	// Adding again changes nothing.
	if got = addLabels(t, app, tm.agentTok, c1, "BILLING"); names(got) != "billing,VIP" {
		t.Fatalf("again %+v", got)
	}
	var rm struct{ RemoveLabels struct{ Labels []label } }
	gql(t, app, tm.agentTok, removeLabelsMutation, map[string]any{"id": fmt.Sprint(c1.ID), "names": []string{"Vip", "never-made"}}, &rm)
	if names(rm.RemoveLabels.Labels) != "billing" {
		t.Fatalf("after remove %+v", rm.RemoveLabels.Labels)
	}
	// Removing keeps the label (the other conversation carries it).
	if all = labelsOf(t, app, tm.agentTok); len(all) != 3 || all[1].ConversationCount != 1 {
		t.Fatalf("company labels after remove %+v", all)
	}
	// Another company sees none of them.
	other := newTenant(t, app)
	if ls := labelsOf(t, app, other.token); len(ls) != 0 {
		t.Fatalf("another company sees %+v", ls)
	}
}

func TestAddLabels_BadNamesAreRefused(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, time.Now())
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprint("l", i)
	}
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"no names", []string{}},
		{"empty", []string{""}},
		{"blank", []string{"   "}},
		{"41 characters", []string{strings.Repeat("x", 41)}},
		{"41 runes", []string{strings.Repeat("é", 41)}},
		{"control character", []string{"a\x01b"}},
		{"NUL", []string{"a\x00b"}},
		{"newline", []string{"a\nb"}},
		{"tab", []string{"a\tb"}},
		{"one good one bad", []string{"good", ""}},
		{"21 names", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []string{addLabelsMutation, removeLabelsMutation} {
				wantCode(t, app, a.token, m, map[string]any{"id": fmt.Sprint(conv.ID), "names": tc.names}, "BAD_USER_INPUT")
			}
		})
	}
	if ls := labelsOf(t, app, a.token); len(ls) != 0 {
		t.Fatalf("a refused call made labels %+v", ls)
	}
	// 40 characters (runes) is fine.
	if got := addLabels(t, app, a.token, conv, strings.Repeat("é", 40)); len(got) != 1 {
		t.Fatalf("40 runes: %+v", got)
	}
}

func TestAddLabels_ConcurrentFirstUsesOfOneNameAllSucceed(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	const n = 8
	convs := make([]*db.Conversation, n)
	for i := range convs {
		convs[i] = testkit.Conversation(t, app.DB, a.company.ID, time.Now())
	}
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Different cases and orders: one label each, no deadlock.
			ns := []string{"Urgent", "new"}
			if i%2 == 0 {
				ns = []string{"NEW", "urgent"}
			}
			res := app.GraphQL(a.token, addLabelsMutation, map[string]any{"id": fmt.Sprint(convs[i].ID), "names": ns})
			if len(res.Errors) > 0 {
				errs[i] = fmt.Sprint(res.Errors)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("call %d: %s", i, e)
		}
	}
	all := labelsOf(t, app, a.token)
	if len(all) != 2 || all[0].ConversationCount != n || all[1].ConversationCount != n {
		t.Fatalf("labels %+v", all)
	}
}

func TestUpdateLabel_RenameRecolorConflictAndBadInput(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	ls := addLabels(t, app, tm.agentTok, conv, "vip", "billing")
	billing, vip := ls[0], ls[1]

	var out struct{ UpdateLabel label }
	gql(t, app, tm.adminTok, updateLabelMutation, map[string]any{"id": vip.ID, "name": " VIP customers ", "color": "#AABBCC"}, &out)
	if out.UpdateLabel.Name != "VIP customers" || out.UpdateLabel.Color != "#aabbcc" || out.UpdateLabel.ConversationCount != 1 {
		t.Fatalf("updated %+v", out.UpdateLabel)
	}
	// A change of case of its own name is no conflict; only the color changes too.
	gql(t, app, tm.ownerTok, updateLabelMutation, map[string]any{"id": vip.ID, "name": "vip customers"}, &out)
	if out.UpdateLabel.Name != "vip customers" || out.UpdateLabel.Color != "#aabbcc" {
		t.Fatalf("renamed %+v", out.UpdateLabel)
	}
	gql(t, app, tm.ownerTok, updateLabelMutation, map[string]any{"id": vip.ID, "color": "#00ff00"}, &out)
	if out.UpdateLabel.Name != "vip customers" || out.UpdateLabel.Color != "#00ff00" {
		t.Fatalf("recolored %+v", out.UpdateLabel)
	}
	wantCode(t, app, tm.adminTok, updateLabelMutation, map[string]any{"id": vip.ID, "name": "BILLING"}, "CONFLICT")

	for _, tc := range []struct {
		name string
		vars map[string]any
	}{
		{"neither", map[string]any{}},
		{"empty name", map[string]any{"name": " "}},
		{"long name", map[string]any{"name": strings.Repeat("n", 41)}},
		{"control in name", map[string]any{"name": "a\tb\x07"}},
		{"color without #", map[string]any{"color": "aabbcc"}},
		{"short color", map[string]any{"color": "#abc"}},
		{"long color", map[string]any{"color": "#aabbccdd"}},
		{"not hex", map[string]any{"color": "#gggggg"}},
		{"named color", map[string]any{"color": "red"}},
		{"empty color", map[string]any{"color": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["id"] = billing.ID
			wantCode(t, app, tm.adminTok, updateLabelMutation, tc.vars, "BAD_USER_INPUT")
		})
	}
	if all := labelsOf(t, app, tm.agentTok); names(all) != "billing,vip customers" || all[0].Color != "#1f93ff" {
		t.Fatalf("labels %+v", all)
	}
}

func TestDeleteLabel_TakesItOffEveryConversation(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	c1 := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	c2 := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	vip := addLabels(t, app, tm.agentTok, c1, "vip", "keep")[1]
	addLabels(t, app, tm.agentTok, c2, "vip")
	var out struct{ DeleteLabel bool }
	gql(t, app, tm.adminTok, deleteLabelMutation, map[string]any{"id": vip.ID}, &out)
	if !out.DeleteLabel {
		t.Fatal("deleteLabel answered false")
	}
	var conv struct {
		Conversation struct{ Labels []label }
	}
	gql(t, app, tm.agentTok, `query($id: ID!) { conversation(id: $id) { labels { name } } }`, map[string]any{"id": fmt.Sprint(c1.ID)}, &conv)
	if names(conv.Conversation.Labels) != "keep" {
		t.Fatalf("c1 labels %+v", conv.Conversation.Labels)
	}
	if all := labelsOf(t, app, tm.agentTok); names(all) != "keep" {
		t.Fatalf("labels %+v", all)
	}
	// Deleted: gone for good (no oracle: the same answer as another company's).
	wantCode(t, app, tm.adminTok, deleteLabelMutation, map[string]any{"id": vip.ID}, "FORBIDDEN")
	// The name can be used again: a new label.
	if got := addLabels(t, app, tm.agentTok, c2, "VIP"); len(got) != 1 || got[0].ID == vip.ID || got[0].Name != "VIP" {
		t.Fatalf("re-added %+v", got)
	}
}

// Labels change a conversation: addLabels and removeLabels publish
// conversationUpdated (only when something changed); updateLabel and deleteLabel
// publish nothing.
func TestLabels_ConversationUpdatedOnAddAndRemoveOnly(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	got := make(chan events.Event, 16)
	sub := app.Bus.Attach(tm.company.ID, func(ev *events.Event) bool { got <- *ev; return true }, nil)
	defer sub.Close()
	next := func(what string) {
		t.Helper()
		select {
		case ev := <-got:
			if ev.Kind != events.ConversationUpdated || ev.ConversationID != conv.ID {
				t.Fatalf("%s: event %+v", what, ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no conversationUpdated", what)
		}
	}
	none := func(what string) {
		t.Helper()
		select {
		case ev := <-got:
			t.Fatalf("%s published %+v", what, ev)
		case <-time.After(300 * time.Millisecond):
		}
	}
	vip := addLabels(t, app, tm.agentTok, conv, "vip")[0]
	next("addLabels")
	addLabels(t, app, tm.agentTok, conv, "VIP")
	none("adding a label the conversation carries")
	gql(t, app, tm.adminTok, updateLabelMutation, map[string]any{"id": vip.ID, "name": "gold"}, nil)
	none("updateLabel")
	gql(t, app, tm.agentTok, removeLabelsMutation, map[string]any{"id": fmt.Sprint(conv.ID), "names": []string{"gold"}}, nil)
	next("removeLabels")
	gql(t, app, tm.agentTok, removeLabelsMutation, map[string]any{"id": fmt.Sprint(conv.ID), "names": []string{"gold"}}, nil)
	none("removing a label the conversation does not carry")
	addLabels(t, app, tm.agentTok, conv, "gold")
	next("addLabels again")
	gql(t, app, tm.adminTok, deleteLabelMutation, map[string]any{"id": vip.ID}, nil)
	none("deleteLabel")
}
