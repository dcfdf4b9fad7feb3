package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// signupArgs is one valid signup; n makes its email and number unique.
func signupArgs(n int) string {
	return fmt.Sprintf(`input: {firstName: "A", lastName: "B", phone: "+9471793677%d", email: "owner%d@example.com", password: "secret-password", companyName: "Co %d"}`, n, n, n)
}

const loginArgs = `email: "nobody@example.com", password: "wrong-password"`

func TestGraphQL_AtMostOneAuthFieldPerOperation(t *testing.T) {
	app := testkit.NewApp(t)
	many := make([]string, 50)
	for i := range many {
		many[i] = fmt.Sprintf("a%d: login(%s) { token }", i, loginArgs)
	}
	cases := []struct {
		name, query string
		refused     bool
	}{
		{"one login", `mutation { login(` + loginArgs + `) { token } }`, false},
		{"one signup", `mutation { signup(` + signupArgs(1) + `) { token } }`, false},
		{"the same field twice under one name runs once", `mutation { login(` + loginArgs + `) { token } login(` + loginArgs + `) { expiresAt } }`, false},
		{"two aliased logins", `mutation { a: login(` + loginArgs + `) { token } b: login(` + loginArgs + `) { token } }`, true},
		{"fifty aliased logins", `mutation { ` + strings.Join(many, " ") + ` }`, true},
		{"two aliased signups", `mutation { a: signup(` + signupArgs(2) + `) { token } b: signup(` + signupArgs(3) + `) { token } }`, true},
		{"login and signup", `mutation { login(` + loginArgs + `) { token } signup(` + signupArgs(4) + `) { token } }`, true},
		{"second login in a fragment", `mutation { a: login(` + loginArgs + `) { token } ...F } fragment F on Mutation { b: login(` + loginArgs + `) { token } }`, true},
		{"second login in a nested fragment", `mutation { a: login(` + loginArgs + `) { token } ...F } fragment F on Mutation { ...G } fragment G on Mutation { c: signup(` + signupArgs(5) + `) { token } }`, true},
		{"second login in an inline fragment", `mutation { a: login(` + loginArgs + `) { token } ... on Mutation { b: login(` + loginArgs + `) { token } } }`, true},
		{"logins in two inline fragments", `mutation { ... { a: login(` + loginArgs + `) { token } } ... @include(if: true) { b: login(` + loginArgs + `) { token } } }`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := app.GraphQL("", tc.query, nil)
			code := res.Code()
			if tc.refused {
				if code != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "one of") {
					t.Fatalf("refused operation answered %q with %d errors: %.300v", code, len(res.Errors), res.Errors)
				}
				if len(res.Errors) != 1 || (len(res.Data) > 0 && string(res.Data) != "null") {
					t.Errorf("a refused operation must run nothing: data %s, errors %+v", res.Data, res.Errors)
				}
				return
			}
			if code == "BAD_USER_INPUT" {
				t.Fatalf("allowed operation refused: %+v", res.Errors)
			}
		})
	}
	// Only the one allowed signup created a company: no resolver of a refused
	// operation ran.
	var n int
	if err := app.DB.NewRaw(`SELECT count(*) FROM companies WHERE name LIKE 'Co %'`).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d companies created, want 1 (refused signups must not run)", n)
	}
}
