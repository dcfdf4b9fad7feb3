package server_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

func TestGraphQLHTTP_GETRunsQueriesOnly(t *testing.T) {
	app := testkit.NewApp(t)
	q := url.Values{"query": {"{ apiInfo { name version } }"}}
	r := app.Do("GET", "/graphql?"+q.Encode(), "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
		string(r.Body) != `{"data":{"apiInfo":{"name":"CONNECTME API","version":"1.2"}}}` {
		t.Errorf("GET query: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	// The answer is written in parts under its length; asked again (its buffer now
	// sized from the first answer), the same.
	for range 2 {
		r = app.Do("GET", "/graphql?"+q.Encode(), "", nil)
		if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(r.Body)) || string(r.Body) != `{"data":{"apiInfo":{"name":"CONNECTME API","version":"1.2"}}}` {
			t.Errorf("Content-Length %s for %d bytes: %s", cl, len(r.Body), r.Body)
		}
	}

	signup := `mutation { signup(input: {firstName: "A", lastName: "B", phone: "+94717936775", email: "get@example.com", password: "long-enough", companyName: "X"}) { token } }`
	r = app.Do("GET", "/graphql?"+url.Values{"query": {signup}}.Encode(), "", nil)
	if r.Status != 405 || r.Header.Get("Allow") != "POST" || strings.Contains(string(r.Body), `"data"`) {
		t.Errorf("GET mutation: %d allow=%q %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
	// Not executed: the same signup over POST still succeeds.
	if g := app.GraphQL("", signup, nil); len(g.Errors) > 0 {
		t.Errorf("the refused GET ran the mutation: %+v", g.Errors)
	}
	// An operationName that picks the mutation out of a document is refused too.
	doc := "query Q { apiInfo { name } } " + strings.Replace(signup, "mutation", "mutation M", 1)
	r = app.Do("GET", "/graphql?"+url.Values{"query": {doc}, "operationName": {"M"}}.Encode(), "", nil)
	if r.Status != 405 {
		t.Errorf("GET with operationName of a mutation: %d %s", r.Status, r.Body)
	}
}

func TestGraphQLHTTP_StatusAndMediaTypeFollowAccept(t *testing.T) {
	app := testkit.NewApp(t)
	const gqlResp = "application/graphql-response+json"
	tests := []struct {
		name, accept, body string
		wantStatus         int
		wantType           string
		wantData           bool
	}{
		{"ok, no Accept", "", `{"query":"{ apiInfo { name } }"}`, 200, "application/json", true},
		{"ok, graphql-response", gqlResp, `{"query":"{ apiInfo { name } }"}`, 200, gqlResp, true},
		{"ok, preferred by q", "application/json;q=0.9, " + gqlResp, `{"query":"{ apiInfo { name } }"}`, 200, gqlResp, true},
		{"parse error, json", "application/json", `{"query":"{"}`, 200, "application/json", false},
		{"parse error, graphql-response", gqlResp, `{"query":"{"}`, 400, gqlResp, false},
		{"validation error, json", "*/*", `{"query":"{ nope }"}`, 200, "application/json", false},
		{"validation error, graphql-response", gqlResp, `{"query":"{ nope }"}`, 400, gqlResp, false},
		{"variable coercion, graphql-response", gqlResp, `{"query":"query($n: String!) { apiInfo { name } }","variables":{"n":1}}`, 400, gqlResp, false},
		{"field error is not a request error", gqlResp, `{"query":"{ me { id } }"}`, 200, gqlResp, true},
		{"body not JSON", "", `{"query":`, 400, "application/json", false},
		{"query of the wrong type", gqlResp, `{"query":1}`, 400, gqlResp, false},
		{"variables of the wrong type", "", `{"query":"{ apiInfo { name } }","variables":"x"}`, 400, "application/json", false},
		{"no query", "", `{}`, 400, "application/json", false},
		{"trailing data", "", `{"query":"{ apiInfo { name } }"} {}`, 400, "application/json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.accept != "" {
				hdr = []string{"Accept", tt.accept}
			}
			r := app.Do("POST", "/graphql", "", tt.body, hdr...)
			if r.Status != tt.wantStatus || r.Header.Get("Content-Type") != tt.wantType+"; charset=utf-8" {
				t.Errorf("got %d %q, want %d %q: %s", r.Status, r.Header.Get("Content-Type"), tt.wantStatus, tt.wantType, r.Body)
			}
			m := r.Map(t)
			if _, has := m["data"]; has != tt.wantData {
				t.Errorf("data entry present = %v, want %v: %s", has, tt.wantData, r.Body)
			}
			if !tt.wantData && m["errors"] == nil {
				t.Errorf("no errors: %s", r.Body)
			}
		})
	}
}

func TestGraphQLHTTP_BodyOverTheLimitIs413(t *testing.T) {
	app := testkit.NewApp(t)
	big := `{"query":"{ apiInfo { name } }","variables":{"x":"` + strings.Repeat("a", 300<<10) + `"}}`
	if r := app.Do("POST", "/graphql", "", big); r.Status != 413 {
		t.Errorf("big body: %d %.200s", r.Status, r.Body)
	}
}
