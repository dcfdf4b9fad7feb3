package gqlexec

import (
	"reflect"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func collectFixture(t *testing.T, skip bool) (*graphql.OperationContext, ast.SelectionSet, ast.SelectionSet) {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { a: T, b: T }
		type T { x: Int, y: Int, z: Int }`})
	doc, errs := gqlparser.LoadQueryWithRules(schema, `query Q($skip: Boolean!) {
		a { x y @skip(if: $skip) ...F }
		b { z }
	}
	fragment F on T { z }`, nil) // nil: the default rules
	if errs != nil {
		t.Fatal(errs)
	}
	op := doc.Operations[0]
	oc := &graphql.OperationContext{Doc: doc, Operation: op, Variables: map[string]any{"skip": skip}}
	return oc, op.SelectionSet[0].(*ast.Field).SelectionSet, op.SelectionSet[1].(*ast.Field).SelectionSet
}

func names(fields []graphql.CollectedField) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Alias)
	}
	return out
}

// The cache answers what gqlgen collects, once per selection set and type, apart
// for each, with the operation's variables.
func TestCollected_AsGqlgen(t *testing.T) {
	for _, skip := range []bool{false, true} {
		oc, a, b := collectFixture(t, skip)
		var c Collected
		implementors := []string{"T"}
		first := c.Fields(oc, a, implementors)
		// Whole collected fields, not only their names: selections, deferrables.
		if want := graphql.CollectFields(oc, a, implementors); !reflect.DeepEqual(first, want) {
			t.Errorf("skip=%v: collected %v, gqlgen %v", skip, names(first), names(want))
		}
		if skip && len(first) != 2 || !skip && len(first) != 3 {
			t.Errorf("skip=%v: collected %v", skip, names(first))
		}
		if again := c.Fields(oc, a, implementors); &again[0] != &first[0] {
			t.Error("the second collection of a selection set was not the cached one")
		}
		if other := names(c.Fields(oc, b, implementors)); !reflect.DeepEqual(other, []string{"z"}) {
			t.Errorf("another selection set collected %v", other)
		}
		// For another type the fragment on T does not apply.
		if u := c.Fields(oc, a, []string{"U"}); len(u) != len(first)-1 {
			t.Errorf("another type's collection: %v", names(u))
		}
		if len(c.m) != 3 {
			t.Errorf("%d entries, want 3", len(c.m))
		}
	}
}

func TestCollected_ConcurrentAndWithoutAllocating(t *testing.T) {
	oc, a, b := collectFixture(t, false)
	var c Collected
	implementors := []string{"T"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if len(c.Fields(oc, a, implementors)) != 3 || len(c.Fields(oc, b, implementors)) != 1 {
					t.Error("wrong collection")
					return
				}
			}
		})
	}
	wg.Wait()
	if allocs := testing.AllocsPerRun(100, func() { c.Fields(oc, a, implementors) }); allocs != 0 {
		t.Errorf("a cached collection costs %v allocations", allocs)
	}
}
