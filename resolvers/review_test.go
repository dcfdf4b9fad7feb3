package resolvers_test

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// Cases found in review: each once reached INTERNAL or let bad input through.

func TestCursor_OutOfRangeTimeIsBadInput(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	forge := func(kind string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"k":"` + kind + `","t":"0000-01-01T00:00:00Z","i":"01a21b6af91372959c9c8982896ea9dd","n":1,"r":0.1}`))
	}
	wantCode(t, app, a.token, messagesQuery, map[string]any{"c": fmt.Sprint(conv.ID), "after": forge("m")}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, conversationsQuery, map[string]any{"after": forge("c")}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, `query($a: String) { searchMessages(term: "x", after: $a) { totalCount } }`, map[string]any{"a": forge("s")}, "BAD_USER_INPUT")
}

func TestSendMessage_TemplateCannotCarryTextOrMedia(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 48*time.Hour))
	wantCode(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID),
		"templateId": "1", "params": []string{"x"}, "text": "free text into a closed window"}}, "BAD_USER_INPUT")
	if n := countRows(t, app, "messages"); n != 0 {
		t.Errorf("stored %d messages", n)
	}
}

func TestControlCharactersAreRefusedNotSilentlyDropped(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	wantCode(t, app, a.token, sendMutation, map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "hi\x00there"}}, "BAD_USER_INPUT")
	wantCode(t, app, "", `mutation($e: String!) { login(email: $e, password: "whatever1") { token } }`,
		map[string]any{"e": *a.agent.Email + "\x00\x00"}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, `mutation($in: UpdateContactInput!) { updateContact(input: $in) { contact { id } } }`,
		map[string]any{"in": map[string]any{"id": fmt.Sprint(conv.UserID), "firstName": "a\x01b"}}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, `query($t: String!) { searchMessages(term: $t) { totalCount } }`, map[string]any{"t": "a\x00b"}, "BAD_USER_INPUT")
}

func TestUploadMedia_NotAFileIsBadInput(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	wantCode(t, app, a.token, `mutation { uploadMedia(file: "abc") { attachment { id } } }`, nil, "BAD_USER_INPUT")
	wantCode(t, app, a.token, `mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id } } }`, map[string]any{"f": "abc"}, "BAD_USER_INPUT")
}

func TestSearch_ShortTermsUseWordPrefixes(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "ok thanks", ago(app, time.Hour))
	q := `query($t: String!) { searchMessages(term: $t) { totalCount } }`
	var out struct{ SearchMessages struct{ TotalCount int } }
	for term, want := range map[string]int{"ok": 1, "th": 1, "an": 0, "+": 0, "hanks": 1} {
		gql(t, app, a.token, q, map[string]any{"t": term}, &out)
		if out.SearchMessages.TotalCount != want {
			t.Errorf("%q: %d, want %d", term, out.SearchMessages.TotalCount, want)
		}
	}
}
