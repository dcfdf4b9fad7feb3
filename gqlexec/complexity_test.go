package gqlexec

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

const costSchema = `
type Query {
  items(first: Int = 20, last: Int, filter: Filter): [Item!]!
  feed(first: Int): [Node!]!
  any: [Thing!]!
  one(id: ID!): Item
}
input Filter { tags: [String!], open: Boolean }
interface Node { id: ID! children(first: Int): [Node!]! }
type Item implements Node { id: ID! name: String children(first: Int): [Node!]! }
type Note implements Node { id: ID! text: String children(first: Int): [Node!]! }
union Thing = Item | Note
`

// gqlgenCosts is what gqlgen's generated Complexity would compute for costSchema
// with these costs: the arguments as ast.Field.ArgumentMap gives them.
type gqlgenCosts struct{ s *ast.Schema }

func (g gqlgenCosts) Schema() *ast.Schema { return g.s }
func (gqlgenCosts) Exec(context.Context) graphql.ResponseHandler {
	return nil
}

func (gqlgenCosts) Complexity(_ context.Context, typ, field string, child int, args map[string]any) (int, bool) {
	n := func(name string) int {
		v, ok := args[name]
		if !ok || v == nil {
			return 0
		}
		i, err := graphql.UnmarshalInt(v)
		if err != nil {
			return 0
		}
		return i
	}
	switch typ + "." + field {
	case "Query.items":
		return 3 + max(n("first"), n("last"))*child, true
	case "Query.feed":
		return 1 + n("first")*child, true
	case "Item.children":
		return 5 + 3*n("first")*child, true
	case "Note.children":
		return 2 + n("first")*child, true
	case "Item.name":
		return 0, true
	}
	return 0, false
}

var testCosts = Costs{
	{"Query", "items"}: func(child int, a Args) int {
		v := func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		}
		return 3 + max(v(a.Int("first")), v(a.Int("last")))*child
	},
	{"Query", "feed"}:    func(child int, a Args) int { return 1 + intOr0(a.Int("first"))*child },
	{"Item", "children"}: func(child int, a Args) int { return 5 + 3*intOr0(a.Int("first"))*child },
	{"Note", "children"}: func(child int, a Args) int { return 2 + intOr0(a.Int("first"))*child },
	// A cost under 1 counts as unset (1 plus the selection's), as in gqlgen.
	{"Item", "name"}: func(int, Args) int { return 0 },
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Our walk gives gqlgen's figure for every shape of query: defaults, literals,
// variables given, null and absent, fragments named and inline, interfaces (the
// costliest implementor), unions, introspection, and a cost that would overflow.
func TestComplexity_AsGqlgen(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: costSchema})
	limit := &ComplexityLimit{Limit: 100, Costs: testCosts}
	if err := limit.Validate(gqlgenCosts{schema}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, query, vars string
	}{
		{"default page", `{ items { id name } }`, ``},
		{"literal first", `{ items(first: 5) { id } }`, ``},
		{"last wins when larger", `{ items(first: 5, last: 9) { id } }`, ``},
		{"a filter beside the page", `{ items(first: 7, filter: {tags: ["a", "b"], open: true}) { id } }`, ``},
		{"variable given", `query($n: Int) { items(first: $n) { id } }`, `{"n": 12}`},
		{"variable null", `query($n: Int) { items(first: $n) { id } }`, `{"n": null}`},
		{"variable absent takes the default", `query($n: Int) { items(first: $n) { id } }`, `{}`},
		{"variable with its own default", `query($n: Int = 4) { items(first: $n) { id } }`, `{}`},
		{"filter as a variable", `query($f: Filter) { items(first: 2, filter: $f) { id } }`, `{"f": {"tags": ["x"]}}`},
		{"nested connections", `{ items(first: 3) { id children(first: 4) { id children(first: 5) { id } } } }`, ``},
		{"interface field: costliest implementor", `{ feed(first: 6) { id children(first: 3) { id } } }`, ``},
		{"inline fragments", `{ feed(first: 2) { ... on Item { name children(first: 2) { id } } ... on Note { text } } }`, ``},
		{"named fragment", `query { items(first: 2) { ...F } } fragment F on Item { id name children(first: 8) { id } }`, ``},
		{"union", `{ any { ... on Item { id } ... on Note { id text } } }`, ``},
		{"plain fields", `{ one(id: "1") { id name } }`, ``},
		{"introspection", `{ __schema { types { name } } __typename items(first: 1) { id } }`, ``},
		{"aliases", `{ a: items(first: 2) { id } b: items(first: 3) { id } }`, ``},
		{"overflow saturates", `{ items(first: 2147483647) { children(first: 2147483647) { children(first: 2147483647) {
			children(first: 2147483647) { id } } } } }`, ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, c.query, nil)
			if errs != nil {
				t.Fatal(errs)
			}
			op := doc.Operations[0]
			raw := map[string]any{}
			if c.vars != "" {
				dec := json.NewDecoder(strings.NewReader(c.vars))
				dec.UseNumber()
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
			}
			vars, err := validator.VariableValues(schema, op, raw)
			if err != nil {
				t.Fatal(err)
			}
			want := complexity.Calculate(context.Background(), gqlgenCosts{schema}, op, vars)
			if got := limit.Complexity(op, vars); got != want {
				t.Fatalf("complexity %d, gqlgen's %d", got, want)
			}
		})
	}
}
