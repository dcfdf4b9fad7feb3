package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

func TestGraphQL_BodiesWithInvalidUTF8OrDuplicateMembersAre400(t *testing.T) {
	app := testkit.NewApp(t)
	const login = `"query":"mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"`
	for _, tc := range []struct {
		name, body string
		refused    string // what the message names; "" when accepted
	}{
		{"plain", `{` + login + `,"variables":{"e":"a@example.com","p":"x"}}`, ""},
		{"surrogate pair", `{` + login + `,"variables":{"e":"\ud83d\ude00@example.com","p":"x"}}`, ""},
		{"duplicate query", `{"query":"{ apiInfo { name } }","query":"{ me { id } }"}`, `"query"`},
		{"duplicate variable", `{` + login + `,"variables":{"e":"a@example.com","e":"b@example.com","p":"x"}}`, `"e"`},
		{"duplicate deep in a variable", `{` + login + `,"variables":{"e":"a@example.com","p":"x","x":[{"y":{"k":1,"k":2}}]}}`, `"k"`},
		{"duplicate in extensions", `{"query":"{ apiInfo { name } }","extensions":{"a":{"b":1,"b":1}}}`, `"b"`},
		{"invalid byte in a variable", "{" + login + ",\"variables\":{\"e\":\"a\xff@example.com\",\"p\":\"x\"}}", "UTF-8"},
		{"invalid byte in the query", "{\"query\":\"{ apiInfo { name } } # \xc3\"}", "UTF-8"},
		{"lone surrogate escape", `{` + login + `,"variables":{"e":"a@example.com","p":"\udfff"}}`, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := app.Do("POST", "/graphql", "", tc.body)
			var res testkit.GraphQLResult
			r.JSON(t, &res)
			if tc.refused == "" {
				if r.Status != http.StatusOK || res.Code() == "BAD_USER_INPUT" {
					t.Fatalf("accepted body answered %d: %s", r.Status, r.Body)
				}
				return
			}
			if r.Status != http.StatusBadRequest || res.Code() != "BAD_USER_INPUT" || len(res.Errors) != 1 ||
				!strings.Contains(res.Errors[0].Message, tc.refused) {
				t.Fatalf("answered %d: %s", r.Status, r.Body)
			}
		})
	}
}
