package gqlexec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Object writes what graphql.FieldSet writes: each response name once, in order.
func TestObject_WritesAsFieldSet(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	cases := []struct {
		name   string
		fields []graphql.CollectedField
		values []graphql.Marshaler
	}{
		{"empty", nil, nil},
		{"one", []graphql.CollectedField{field("id")}, []graphql.Marshaler{graphql.MarshalString("7")}},
		{"several, with null and nested", []graphql.CollectedField{field("id"), field("_note"), field("sender")},
			[]graphql.Marshaler{graphql.MarshalInt(1), graphql.Null, graphql.MarshalString(`a "quoted" \ name`)}},
		{"a repeated response name", []graphql.CollectedField{field("a"), field("b"), field("a")},
			[]graphql.Marshaler{graphql.MarshalInt(1), graphql.MarshalInt(2), graphql.MarshalInt(3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := graphql.NewFieldSet(c.fields)
			copy(want.Values, c.values)
			var w, g bytes.Buffer
			want.MarshalGQL(&w)
			out := graphql.NewFieldSet(c.fields)
			copy(out.Values, c.values)
			Object(out, c.fields).MarshalGQL(&g)
			if g.String() != w.String() {
				t.Fatalf("Object wrote %s, FieldSet %s", g.String(), w.String())
			}
			// Into another writer than a bytes.Buffer, the same.
			var s strings.Builder
			Object(out, c.fields).MarshalGQL(&s)
			if s.String() != w.String() {
				t.Fatalf("Object wrote %s into a strings.Builder, FieldSet %s", s.String(), w.String())
			}
		})
	}
}

// A value taken out of the field set (nil) is left out, not a panic.
func TestObject_LeavesOutTakenValues(t *testing.T) {
	fields := []graphql.CollectedField{
		{Field: &ast.Field{Alias: "a", Name: "a"}},
		{Field: &ast.Field{Alias: "b", Name: "b"}},
		{Field: &ast.Field{Alias: "b", Name: "b"}},
	}
	out := graphql.NewFieldSet(fields)
	out.Values[0] = graphql.MarshalInt(1)
	out.Values[2] = graphql.MarshalInt(3)
	var g bytes.Buffer
	Object(out, fields).MarshalGQL(&g)
	if g.String() != `{"a":1,"b":3}` {
		t.Fatalf("wrote %s", g.String())
	}
}
