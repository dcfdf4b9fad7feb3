package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

func TestInfo_NamesTheAPIAndLinksTheOtherSurfaces(t *testing.T) {
	app := testkit.NewApp(t)
	r := call(t, app, "GET", "/", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	m := r.Map(t)
	want := map[string]any{"name": "CONNECTME API", "version": "1.2", "graphql": "/graphql", "playground": "/playground", "openapi": "/openapi.json"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestREST_UnknownPathIs404InNestShape(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/nowhere", ""},
		{"GET", "/message/nowhere", w.tokA},
		{"POST", "/contact/search", w.tokA},
		{"GET", "/profile/1/extra", w.tokA},
	} {
		r := call(t, w.app, c.method, c.path, c.token, nil)
		wantBody(t, r, http.StatusNotFound, fmt.Sprintf(`{"statusCode":404,"message":"Cannot %s %s","error":"Not Found"}`, c.method, c.path))
	}
}

func TestREST_WrongMethodIs405WithAllow(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/contact", "GET, PUT"},
		{"POST", "/template", "GET"},
		{"GET", "/message", "POST"},
		{"PATCH", "/profile", "PUT"},
	} {
		r := call(t, w.app, c.method, c.path, w.tokA, nil)
		wantBody(t, r, http.StatusMethodNotAllowed,
			fmt.Sprintf(`{"statusCode":405,"message":"Cannot %s %s","error":"Method Not Allowed"}`, c.method, c.path))
		if got := strings.Join(r.Header.Values("Allow"), ", "); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

// protected lists a request for every path that needs a bearer token; ids are
// filled in by each test.
func protected(convID, contactID int64) []struct {
	method, path string
	body         any
} {
	return []struct {
		method, path string
		body         any
	}{
		{"GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=5", convID), nil},
		{"POST", "/message", map[string]any{"to": contactID, "text": "hi"}},
		{"POST", "/message/new-chat", map[string]any{"phone": "+94715550000"}},
		{"GET", "/message/message-search/hello", nil},
		{"GET", "/contact", nil},
		{"PUT", "/contact", map[string]any{"userId": contactID, "firstName": "X"}},
		{"GET", "/contact/search/9471", nil},
		{"GET", fmt.Sprintf("/conversation/chat-time-report/%d", convID), nil},
		{"GET", "/conversation/conversation-page-list?page=1&limit=5", nil},
		{"GET", "/template", nil},
		{"GET", fmt.Sprintf("/profile/%d", contactID), nil},
		{"PUT", "/profile", map[string]any{"userId": contactID, "firstName": "X", "lastName": "Y", "phone": "+94715550001"}},
	}
}

func TestREST_MissingOrBadTokenIs401OnEveryProtectedPath(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	before := rowCounts(t, w.app)
	for _, c := range protected(conv.ID, conv.UserID) {
		for name, tok := range map[string]string{"missing": "", "garbage": "not.a.token"} {
			t.Run(c.method+" "+c.path+" "+name, func(t *testing.T) {
				r := call(t, w.app, c.method, c.path, tok, c.body)
				wantBody(t, r, http.StatusUnauthorized, unauthorized)
			})
		}
	}
	nothingStored(t, w.app, before)
	// The same requests with a token succeed, so the table exercises real routes.
	for _, c := range protected(conv.ID, conv.UserID) {
		if r := w.do(t, c.method, c.path, c.body); r.Status >= 300 {
			t.Errorf("%s %s with a token: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
}

func TestREST_BodyThatIsNotAJSONObjectIs400(t *testing.T) {
	w := newWorld(t)
	testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	before := rowCounts(t, w.app)
	for _, path := range []struct{ method, path string }{
		{"POST", "/message"}, {"POST", "/message/new-chat"}, {"PUT", "/contact"}, {"PUT", "/profile"},
	} {
		for _, body := range []string{`[]`, `[{"to":1}]`, `"text"`, `42`, `null`, `true`, `{"to":`, ``} {
			t.Run(path.method+" "+path.path+" "+body, func(t *testing.T) {
				r := w.do(t, path.method, path.path, body)
				wantError(t, r, http.StatusBadRequest, "request body must be a JSON object")
			})
		}
		r := call(t, w.app, path.method, path.path, w.tokA, `{"to":1}`, "Content-Type", "text/plain")
		wantError(t, r, http.StatusBadRequest, "Content-Type must be application/json")
	}
	nothingStored(t, w.app, before)
}

func TestREST_OversizedBodyIs413(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	before := rowCounts(t, w.app)
	big := fmt.Sprintf(`{"to":%d,"text":"%s"}`, conv.UserID, strings.Repeat("a", 1<<20))
	for _, p := range []struct{ method, path string }{
		{"POST", "/message"}, {"POST", "/message/new-chat"}, {"PUT", "/contact"}, {"PUT", "/profile"},
	} {
		r := w.do(t, p.method, p.path, big)
		wantError(t, r, http.StatusRequestEntityTooLarge, "")
	}
	nothingStored(t, w.app, before)
}

func TestREST_PageAndLimitMustBeValid(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	paths := []string{
		fmt.Sprintf("/message/message-page-list/%d", conv.ID),
		"/message/message-search/hello",
		"/contact",
		"/conversation/conversation-page-list",
	}
	cases := []struct{ query, want string }{
		{"page=0&limit=10", "page must not be less than 1"},
		{"page=-1&limit=10", "page must not be less than 1"},
		{"page=1&limit=0", "limit must not be less than 1"},
		{"page=1&limit=101", "limit must not be greater than 100"},
		{"page=abc&limit=10", "page must be an integer number"},
		{"page=1&limit=abc", "limit must be an integer number"},
		{"page=1.5&limit=10", "page must be an integer number"},
		{"page=&limit=10", "page must be an integer number"},
		{"page=1&limit=1e1", "limit must be an integer number"},
		{"page=99999999999999999999&limit=10", "page must be an integer number"},
		{"page=1000001&limit=10", "page must not be greater than 1000000"},
		{"page=0", "page must not be less than 1"},
		{"limit=101", "limit must not be greater than 100"},
	}
	for _, p := range paths {
		for _, c := range cases {
			t.Run(p+"?"+c.query, func(t *testing.T) {
				r := w.do(t, "GET", p+"?"+c.query, nil)
				wantError(t, r, http.StatusBadRequest, c.want)
			})
		}
		// Both wrong: both named.
		r := w.do(t, "GET", p+"?page=0&limit=101", nil)
		wantError(t, r, http.StatusBadRequest, "page must not be less than 1")
		wantError(t, r, http.StatusBadRequest, "limit must not be greater than 100")
		// The edges are fine.
		if r := w.do(t, "GET", p+"?page=1&limit=100", nil); r.Status != http.StatusOK {
			t.Errorf("%s?page=1&limit=100: %d %s", p, r.Status, r.Body)
		}
		if r := w.do(t, "GET", p+"?page=1&limit=1", nil); r.Status != http.StatusOK {
			t.Errorf("%s?page=1&limit=1: %d %s", p, r.Status, r.Body)
		}
	}
}
