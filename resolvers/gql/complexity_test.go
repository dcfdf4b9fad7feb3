package gql

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/connectme/connectme/gqlexec"
	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/graph/model"
)

// gqlgenCosts states Costs as gqlgen's generated ComplexityRoot takes them (how
// they were set before the complexity limit became ours): the reference the
// limit's figures are held to.
func gqlgenCosts(c *graph.ComplexityRoot) {
	c.Query.Conversations = func(child int, first *int, _ *string, _ *model.ConversationFilter) int {
		return 1 + pageCost(first, nil)*child
	}
	c.Query.Messages = func(child int, _ string, first *int, _ *string, last *int, _ *string) int {
		return 1 + pageCost(first, last)*child
	}
	c.Query.SearchMessages = func(child int, _ string, first *int, _ *string) int {
		return 10 + pageCost(first, nil)*child
	}
	c.Query.Contacts = func(child int, first *int, _ *string, _ *string) int {
		return 1 + pageCost(first, nil)*child
	}
	c.Conversation.Messages = func(child int, first *int, _ *string, last *int, _ *string) int {
		return 1 + pageCost(first, last)*child
	}
}

// The server's complexity limit (Costs through gqlexec.ComplexityLimit) gives the
// figures gqlgen's own limit gave, on the real schema.
func TestCosts_AsGqlgen(t *testing.T) {
	cfg := graph.Config{Resolvers: &Resolver{}}
	gqlgenCosts(&cfg.Complexity)
	es := graph.NewExecutableSchema(cfg)
	limit := &gqlexec.ComplexityLimit{Limit: 5000, Costs: Costs}
	if err := limit.Validate(es); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		query string
		vars  map[string]any
	}{
		{`{ conversations { edges { node { id contact { id } lastMessage { id } } } } }`, nil},
		{`{ conversations(first: 50, filter: {status: [OPEN], assignee: ME}) { edges { cursor node { id } } pageInfo { hasNextPage } } }`, nil},
		{`query($l: [String!]) { conversations(first: 20, filter: {labels: $l}) { edges { node { id } } } }`,
			map[string]any{"l": []any{"billing"}}},
		{`query($id: ID!, $n: Int) { messages(conversationId: $id, first: $n) { edges { node { id content } } } }`,
			map[string]any{"id": "7", "n": 30}},
		{`query($id: ID!) { messages(conversationId: $id, last: 100) { edges { node { id } } } }`, map[string]any{"id": "7"}},
		{`{ conversations(first: 10) { edges { node { messages(first: 50) { edges { node { id } } } } } } }`, nil},
		{`{ conversations(first: 1000) { edges { node { id } } } }`, nil},
		{`{ searchMessages(term: "x") { edges { node { id } } } contacts(search: "a") { edges { node { id } } } }`, nil},
		{`query { ...Q } fragment Q on Query { contacts(first: 3) { edges { node { id firstName } } } me { id } }`, nil},
		{`{ __schema { types { name } } inboxCounts { open } conversations(first: 5) { edges { cursor } } }`, nil},
	}
	for _, c := range cases {
		doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), c.query, nil)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		op := doc.Operations[0]
		vars, err := validator.VariableValues(es.Schema(), op, c.vars)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		want := complexity.Calculate(context.Background(), es, op, vars)
		if got := limit.Complexity(op, vars); got != want || got <= 2 {
			t.Errorf("%s: complexity %d, gqlgen's %d", c.query, got, want)
		}
	}
}
