package server_test

import (
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// introspectionQuery is the query GraphiQL and code generators send (graphql-js's
// getIntrospectionQuery), with its TypeRef fragment nine levels deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

func TestDepthLimit_StandardIntrospectionQueryPasses(t *testing.T) {
	app := testkit.NewApp(t)
	g := app.GraphQL("", introspectionQuery, nil)
	if len(g.Errors) > 0 || !strings.Contains(string(g.Data), `"queryType":{"name":"Query"}`) {
		t.Fatalf("introspection: %+v %.200s", g.Errors, g.Data)
	}
	// ofType is free, but cycles through fields and types are still refused.
	deep := `{ __type(name: "Query") { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { type { ofType { name } } } } } } } } } } } } } } } } } } } }`
	if g := app.GraphQL("", deep, nil); len(g.Errors) == 0 {
		t.Errorf("a cyclic introspection query passed: %.200s", g.Data)
	}
}

// @defer validates (gqlgen's prelude declares it) but no transport of ours delivers
// incremental results: the deferred fields would come back null. Every use is
// refused with BAD_USER_INPUT instead; the same query without it answers.
func TestDefer_IsRefusedNotSilentlyDropped(t *testing.T) {
	app := testkit.NewApp(t)
	token := app.Token(testkit.Agent(t, app.DB, testkit.Company(t, app.DB).ID))
	for name, q := range map[string]string{
		"inline fragment":          `{ me { id ... @defer { firstName } } }`,
		"labelled":                 `{ me { id ... @defer(label: "later") { firstName } } }`,
		"fragment spread":          `{ me { id ...Names @defer } } fragment Names on User { firstName }`,
		"inside a fragment":        `{ me { ...Outer } } fragment Outer on User { id ... @defer { firstName } }`,
		"if false (still refused)": `{ me { id ... @defer(if: false) { firstName } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			g := app.GraphQL(token, q, nil)
			if g.Code() != "BAD_USER_INPUT" || !strings.Contains(g.Errors[0].Message, "@defer") {
				t.Fatalf("errors %+v data %s", g.Errors, g.Data)
			}
		})
	}
	// Without @defer the same shape is answered.
	agent := testkit.Agent(t, app.DB, testkit.Company(t, app.DB).ID)
	if g := app.GraphQL(app.Token(agent), `{ me { id ... { firstName } } }`, nil); len(g.Errors) > 0 ||
		!strings.Contains(string(g.Data), `"firstName":"Agent"`) {
		t.Fatalf("a query without @defer: %+v %s", g.Errors, g.Data)
	}
}
