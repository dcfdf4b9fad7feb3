package resolvers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

const createCannedMutation = `mutation($in: CreateCannedResponseInput!) { createCannedResponse(input: $in) { id shortCode content } }`
const updateCannedMutation = `mutation($in: UpdateCannedResponseInput!) { updateCannedResponse(input: $in) { id shortCode content } }`
const deleteCannedMutation = `mutation($id: ID!) { deleteCannedResponse(id: $id) }`
const cannedQuery = `query($s: String) { cannedResponses(search: $s) { id shortCode content } }`
const renderCannedQuery = `query($id: ID!, $c: ID!) { renderCannedResponse(id: $id, conversationId: $c) }`

type canned struct {
	ID        string
	ShortCode string
	Content   string
}

func createCanned(t *testing.T, app *testkit.App, tok, code, content string) canned {
	t.Helper()
	var out struct{ CreateCannedResponse canned }
	gql(t, app, tok, createCannedMutation, map[string]any{"in": map[string]any{"shortCode": code, "content": content}}, &out)
	return out.CreateCannedResponse
}

func cannedCodes(t *testing.T, app *testkit.App, tok string, search any) string {
	t.Helper()
	var out struct{ CannedResponses []canned }
	gql(t, app, tok, cannedQuery, map[string]any{"s": search}, &out)
	codes := make([]string, len(out.CannedResponses))
	for i, c := range out.CannedResponses {
		codes[i] = c.ShortCode
	}
	return strings.Join(codes, ",")
}

func TestCannedResponses_CreateSearchUpdateDelete(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	hello := createCanned(t, app, tm.adminTok, "hello", "  Hi {{contact.firstName}}, how can we help?\n")
	if hello.Content != "Hi {{contact.firstName}}, how can we help?" {
		t.Fatalf("content %q", hello.Content)
	}
	createCanned(t, app, tm.ownerTok, "ship_eta", "Your order SHIPS in 2-3 days.")
	createCanned(t, app, tm.ownerTok, "help-100", "Refunds take 100% of five days.")
	wantCode(t, app, tm.adminTok, createCannedMutation, map[string]any{"in": map[string]any{"shortCode": "hello", "content": "again"}}, "CONFLICT")

	for search, want := range map[any]string{
		nil:       "hello,help-100,ship_eta",
		"":        "hello,help-100,ship_eta",
		"  ":      "hello,help-100,ship_eta",
		"he":      "hello,help-100",
		"HEL":     "hello,help-100",
		"ships":   "ship_eta",
		"HOW CAN": "hello",
		"100%":    "help-100",
		"_":       "",
		"ello":    "",
		"%":       "help-100",
		"nothing": "",
	} {
		if got := cannedCodes(t, app, tm.agentTok, search); got != want {
			t.Errorf("search %q: got %q, want %q", search, got, want)
		}
	}

	var up struct{ UpdateCannedResponse canned }
	gql(t, app, tm.adminTok, updateCannedMutation, map[string]any{"in": map[string]any{"id": hello.ID, "shortCode": "hi"}}, &up)
	if up.UpdateCannedResponse.ShortCode != "hi" || up.UpdateCannedResponse.Content != hello.Content {
		t.Fatalf("updated %+v", up.UpdateCannedResponse)
	}
	gql(t, app, tm.ownerTok, updateCannedMutation, map[string]any{"in": map[string]any{"id": hello.ID, "content": "Hello!"}}, &up)
	if up.UpdateCannedResponse.ShortCode != "hi" || up.UpdateCannedResponse.Content != "Hello!" {
		t.Fatalf("updated %+v", up.UpdateCannedResponse)
	}
	wantCode(t, app, tm.adminTok, updateCannedMutation, map[string]any{"in": map[string]any{"id": hello.ID, "shortCode": "ship_eta"}}, "CONFLICT")
	var del struct{ DeleteCannedResponse bool }
	gql(t, app, tm.adminTok, deleteCannedMutation, map[string]any{"id": hello.ID}, &del)
	if !del.DeleteCannedResponse {
		t.Fatal("deleteCannedResponse answered false")
	}
	if got := cannedCodes(t, app, tm.agentTok, nil); got != "help-100,ship_eta" {
		t.Fatalf("after delete: %q", got)
	}
	wantCode(t, app, tm.adminTok, deleteCannedMutation, map[string]any{"id": hello.ID}, "FORBIDDEN")
	// Short codes are unique per company, not across companies.
	other := newTeam(t, app)
	createCanned(t, app, other.adminTok, "ship_eta", "Theirs.")
	if got := cannedCodes(t, app, other.agentTok, nil); got != "ship_eta" {
		t.Fatalf("other company sees %q", got)
	}
}

func TestCannedResponses_BadInputIsRefused(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	existing := createCanned(t, app, tm.adminTok, "ok", "fine")
	for _, tc := range []struct {
		name, code, content string
	}{
		{"empty short code", "", "x"},
		{"upper case", "Hello", "x"},
		{"space inside", "a b", "x"},
		{"dot", "a.b", "x"},
		{"slash", "a/b", "x"},
		{"non-ASCII letter", "café", "x"},
		{"31 characters", strings.Repeat("a", 31), "x"},
		{"empty content", "c1", ""},
		{"blank content", "c2", " \n\t "},
		{"4097 characters", "c3", strings.Repeat("a", 4097)},
		{"4097 runes", "c4", strings.Repeat("é", 4097)},
		{"NUL in content", "c5", "a\x00b"},
		{"control in content", "c6", "a\x1bb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, tm.adminTok, createCannedMutation, map[string]any{"in": map[string]any{"shortCode": tc.code, "content": tc.content}}, "BAD_USER_INPUT")
			// The bad field alone, in an update.
			in := map[string]any{"id": existing.ID, "shortCode": tc.code}
			if tc.content != "x" {
				in = map[string]any{"id": existing.ID, "content": tc.content}
			}
			wantCode(t, app, tm.adminTok, updateCannedMutation, map[string]any{"in": in}, "BAD_USER_INPUT")
		})
	}
	wantCode(t, app, tm.adminTok, updateCannedMutation, map[string]any{"in": map[string]any{"id": existing.ID}}, "BAD_USER_INPUT")
	wantCode(t, app, tm.agentTok, cannedQuery, map[string]any{"s": strings.Repeat("s", 201)}, "BAD_USER_INPUT")
	// The limits themselves are fine.
	createCanned(t, app, tm.adminTok, strings.Repeat("z", 30), strings.Repeat("é", 4096))
	createCanned(t, app, tm.adminTok, "a-z_0-9", "multi\nline\ttext")
	if got := cannedCodes(t, app, tm.agentTok, nil); got != "a-z_0-9,ok,"+strings.Repeat("z", 30) {
		t.Fatalf("codes %q", got)
	}
}

func TestRenderCannedResponse_FillsContactAndCaller(t *testing.T) {
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	conv := testkit.Conversation(t, app.DB, tm.company.ID, time.Now())
	if _, err := app.DB.NewRaw("UPDATE users SET first_name = 'Amaya', last_name = 'Perera' WHERE id = ?", conv.UserID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := createCanned(t, app, tm.adminTok, "greet", "Hi {{contact.firstName}} {{ contact.lastName }} ({{contact.phone}}), "+
		"I am {{agent.firstName}} {{agent.lastName}}. {{contact.email}} {{agent.phone}} {{unknown}} {{contact.firstName")
	var out struct{ RenderCannedResponse string }
	gql(t, app, tm.agentTok, renderCannedQuery, map[string]any{"id": c.ID, "c": fmt.Sprint(conv.ID)}, &out)
	want := fmt.Sprintf("Hi Amaya Perera (%s), I am %s %s. {{contact.email}} {{agent.phone}} {{unknown}} {{contact.firstName",
		*conv.User.Phone, tm.agent.FirstName, tm.agent.LastName)
	if out.RenderCannedResponse != want {
		t.Fatalf("rendered %q\nwant     %q", out.RenderCannedResponse, want)
	}
	// A value that looks like a placeholder is not filled in turn.
	if _, err := app.DB.NewRaw("UPDATE users SET first_name = '{{agent.firstName}}' WHERE id = ?", conv.UserID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	c2 := createCanned(t, app, tm.adminTok, "name", "{{contact.firstName}}")
	gql(t, app, tm.ownerTok, renderCannedQuery, map[string]any{"id": c2.ID, "c": fmt.Sprint(conv.ID)}, &out)
	if out.RenderCannedResponse != "{{agent.firstName}}" {
		t.Fatalf("rendered %q", out.RenderCannedResponse)
	}
}
