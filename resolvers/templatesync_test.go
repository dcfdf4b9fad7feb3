package resolvers_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

const syncMutation = `mutation { syncTemplates { added updated removed } }`

const templatesQuery = `{ templates { id name language content contentSid category approvalStatus variables shared parameterCount } }`

type templateOut struct {
	ID, Name, Language, Content, ApprovalStatus string
	ContentSid, Category                        *string
	Variables                                   []string
	Shared                                      bool
	ParameterCount                              int
}

// appWithContentAPI starts an app reading templates from the fake (and waits for
// the periodic sync's first run, at start, to end); messages go to a provider
// that accepts them.
func appWithContentAPI(t *testing.T, f *testkit.ContentAPI) *testkit.App {
	t.Helper()
	app := testkit.NewAppWith(t, testkit.With{Options: []testkit.Option{testkit.WithContentAPI(f)},
		Provider: testkit.ProviderFunc(func(context.Context, *twilio.Message) (*twilio.Result, error) {
			return &twilio.Result{SID: "SM" + fmt.Sprint(time.Now().UnixNano()), Status: "queued"}, nil
		})})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		err := app.DB.NewRaw(`SELECT count(*) FROM periodic_tasks WHERE name = 'sync_templates'
			AND locked_until IS NULL AND run_at > now()`).Scan(t.Context(), &n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return app
		}
		if time.Now().After(deadline) {
			t.Fatal("the periodic template sync did not run at start")
		}
	}
}

func ownerToken(t *testing.T, app *testkit.App, u *db.User) string {
	t.Helper()
	tok, _, err := app.Resolver.Tokens.Issue(u.ID, u.CompanyID, db.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func syncNow(t *testing.T, app *testkit.App, token string) [3]int {
	t.Helper()
	var out struct {
		SyncTemplates struct{ Added, Updated, Removed int }
	}
	gql(t, app, token, syncMutation, nil, &out)
	s := out.SyncTemplates
	return [3]int{s.Added, s.Updated, s.Removed}
}

func templatesBySID(t *testing.T, app *testkit.App, token string) map[string]templateOut {
	t.Helper()
	var out struct{ Templates []templateOut }
	gql(t, app, token, templatesQuery, nil, &out)
	m := map[string]templateOut{}
	for _, tp := range out.Templates {
		key := "id:" + tp.ID
		if tp.ContentSid != nil && tp.Shared {
			key = *tp.ContentSid
		}
		m[key] = tp
	}
	return m
}

// TestSyncTemplates_FollowsTheContentAPI: every page is read; the templates are
// shared by every company with their approval, category and variables; a second
// sync changes nothing; then an approval changes, a template is deleted at Twilio
// (gone from the lists, kept by the message that used it) and one is added.
// Templates that did not come from the API (the migrations', a company's own with a
// content id of its own) are never touched.
func TestSyncTemplates_FollowsTheContentAPI(t *testing.T) {
	f := testkit.NewContentAPI(t)
	app := appWithContentAPI(t, f) // the account has no content yet
	read := f.Requests.Load()
	f.Set(testkit.Content("HX1", "welcome", "Hi {{1}}, welcome to {{2}}", "approved", "Ann", "Acme"),
		testkit.Content("HX2", "promo", "Sale on {{1}}", "pending", "shoes"),
		testkit.Content("HX3", "old", "Old {{1}}", "approved", "x"))
	a, b := newTenant(t, app), newTenant(t, app)
	ownSID := "HX3"
	own := &db.Template{CompanyID: &b.company.ID, Name: "b_own", Language: "en", Content: "B {{1}}", ContentSID: &ownSID}
	if _, err := app.DB.NewInsert().Model(own).Returning("*").Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantCode(t, app, a.token, syncMutation, nil, "FORBIDDEN") // an AGENT
	owner := ownerToken(t, app, a.agent)
	if got := syncNow(t, app, owner); got != [3]int{3, 0, 0} {
		t.Fatalf("first sync %v, want 3 added", got)
	}
	if n := f.Requests.Load() - read; n != 2 {
		t.Errorf("%d pages read, want 2", n)
	}
	seenByB := templatesBySID(t, app, b.token)
	hx1 := seenByB["HX1"]
	if !hx1.Shared || hx1.Name != "welcome" || hx1.Content != "Hi {{1}}, welcome to {{2}}" || hx1.ApprovalStatus != "APPROVED" ||
		hx1.Category == nil || *hx1.Category != "UTILITY" || fmt.Sprint(hx1.Variables) != "[Ann Acme]" || hx1.ParameterCount != 2 {
		t.Errorf("HX1 as company B sees it: %+v", hx1)
	}
	if seenByB["HX2"].ApprovalStatus != "PENDING" || seenByB["id:1"].ApprovalStatus != "APPROVED" || seenByB["id:1"].Variables == nil {
		t.Errorf("HX2 or the migrations' template 1: %+v %+v", seenByB["HX2"], seenByB["id:1"])
	}
	if _, ok := templatesBySID(t, app, a.token)["id:"+fmt.Sprint(own.ID)]; ok {
		t.Error("company A sees company B's own template")
	}
	if got := syncNow(t, app, owner); got != [3]int{0, 0, 0} {
		t.Fatalf("second sync %v, want no change", got)
	}
	// A message uses HX3 before Twilio deletes it.
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	hx3 := templatesBySID(t, app, a.token)["HX3"]
	var sent sendOut
	gql(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "templateId": hx3.ID, "params": []string{"y"}}}, &sent)

	f.Set(testkit.Content("HX1", "welcome", "Hi {{1}}, welcome to {{2}}", "approved", "Ann", "Acme"),
		testkit.Content("HX2", "promo", "Sale on {{1}}", "approved", "shoes"),
		testkit.Content("HX4", "new", "New {{1}}", "", "z"))
	admin, _, err := app.Resolver.Tokens.Issue(a.agent.ID, a.company.ID, db.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if got := syncNow(t, app, admin); got != [3]int{1, 1, 1} {
		t.Fatalf("third sync %v, want 1 added, 1 updated, 1 removed", got)
	}
	after := templatesBySID(t, app, b.token)
	if _, ok := after["HX3"]; ok {
		t.Error("HX3, deleted at Twilio, is still listed")
	}
	if after["HX2"].ApprovalStatus != "APPROVED" || after["HX4"].ApprovalStatus != "UNSUBMITTED" || after["HX4"].Category != nil {
		t.Errorf("HX2 %+v HX4 %+v", after["HX2"], after["HX4"])
	}
	if got, ok := after["id:"+fmt.Sprint(own.ID)]; !ok || got.Content != "B {{1}}" {
		t.Errorf("company B's own template with a content id was touched: %+v", got)
	}
	var msg struct {
		Messages struct {
			Edges []struct {
				Node struct{ Template *struct{ ID, Name string } }
			}
		}
	}
	gql(t, app, a.token, `query($c: ID!) { messages(conversationId: $c) { edges { node { template { id name } } } } }`,
		map[string]any{"c": fmt.Sprint(conv.ID)}, &msg)
	if len(msg.Messages.Edges) != 1 || msg.Messages.Edges[0].Node.Template == nil || msg.Messages.Edges[0].Node.Template.Name != "old" {
		t.Errorf("the message lost its deleted template: %+v", msg)
	}
	// A deleted template cannot be sent any more.
	wantCode(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "templateId": hx3.ID, "params": []string{"y"}}}, "FORBIDDEN")
}

// TestSyncTemplates_ContentAPIDownIsUnavailable: a failing API changes nothing and
// answers UNAVAILABLE; without credentials the sync is UNAVAILABLE too.
func TestSyncTemplates_ContentAPIDownIsUnavailable(t *testing.T) {
	f := testkit.NewContentAPI(t)
	app := testkit.NewApp(t, testkit.WithContentAPI(f), func(c *config.Config) { c.TwilioAuthToken = "wrong" })
	a := newTenant(t, app)
	wantCode(t, app, ownerToken(t, app, a.agent), syncMutation, nil, "UNAVAILABLE")
	bare := testkit.NewApp(t)
	c := newTenant(t, bare)
	wantCode(t, bare, ownerToken(t, bare, c.agent), syncMutation, nil, "UNAVAILABLE")
}

// TestSendTemplate_OutsideTheWindowOnlyApproved: outside the 24-hour window a
// synced template must be APPROVED (BAD_USER_INPUT, REST 400), inside it any may
// go; templates without a content id count as approved.
func TestSendTemplate_OutsideTheWindowOnlyApproved(t *testing.T) {
	f := testkit.NewContentAPI(t)
	f.Set(testkit.Content("HXok", "ok", "OK {{1}}", "approved", "a"),
		testkit.Content("HXpending", "pending", "P {{1}}", "pending", "a"),
		testkit.Content("HXpaused", "paused", "Q {{1}}", "paused", "a"),
		testkit.Content("HXnone", "none", "N {{1}}", "", "a"))
	app := appWithContentAPI(t, f) // synced at start
	a := newTenant(t, app)
	ts := templatesBySID(t, app, a.token)
	closed := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 30*time.Hour))
	open := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	send := func(conv *db.Conversation, id string) map[string]any {
		return map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "templateId": id, "params": []string{"v"}}}
	}
	for _, sid := range []string{"HXpending", "HXpaused", "HXnone"} {
		t.Run(sid, func(t *testing.T) {
			wantCode(t, app, a.token, sendMutation, send(closed, ts[sid].ID), "BAD_USER_INPUT")
			r := app.Do(http.MethodPost, "/message", a.token, map[string]any{"to": closed.UserID, "templateId": ts[sid].ID, "params": []string{"v"}})
			if r.Status != http.StatusBadRequest {
				t.Errorf("REST: %d %s", r.Status, r.Body)
			}
			gql(t, app, a.token, sendMutation, send(open, ts[sid].ID), nil) // inside the window
		})
	}
	gql(t, app, a.token, sendMutation, send(closed, ts["HXok"].ID), nil)
	gql(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(closed.UserID), "templateId": "1", "params": []string{"Ann"}}}, nil)
	wantCode(t, app, a.token, `mutation($in: StartNewChatInput!) { startNewChat(input: $in) { conversation { id } } }`,
		map[string]any{"in": map[string]any{"phone": "+94719999001", "templateId": ts["HXpending"].ID, "params": []string{"v"}}}, "BAD_USER_INPUT")
	if n := countRows(t, app, "messages"); n != 5 {
		t.Errorf("%d messages stored, want 5 (3 inside the window, 2 approved outside)", n)
	}
}
