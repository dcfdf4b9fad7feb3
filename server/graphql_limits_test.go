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
