package gql_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/connectme/connectme/graph"
)

// TestSchema_EverythingIsDescribed: every type, field, argument, enum value and
// input field of the schema the server serves has a description (CONTRACT §8).
func TestSchema_EverythingIsDescribed(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	var missing []string
	need := func(desc, what string) {
		if strings.TrimSpace(desc) == "" {
			missing = append(missing, what)
		}
	}
	for name, def := range s.Types {
		if def.BuiltIn {
			continue
		}
		need(def.Description, "type "+name)
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			kind := "field"
			if def.Kind == ast.InputObject {
				kind = "input field"
			}
			need(f.Description, kind+" "+name+"."+f.Name)
			for _, a := range f.Arguments {
				need(a.Description, "argument "+name+"."+f.Name+"("+a.Name+")")
			}
		}
		for _, v := range def.EnumValues {
			need(v.Description, "enum value "+name+"."+v.Name)
		}
	}
	for name, d := range s.Directives {
		if d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn {
			continue
		}
		need(d.Description, "directive @"+name)
		for _, a := range d.Arguments {
			need(a.Description, "argument @"+name+"("+a.Name+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d schema elements have no description:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
