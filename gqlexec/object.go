package gqlexec

import (
	"bytes"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// Object is what an object's generated marshaler returns once its fields are
// resolved (cmd/gqlgen rewrites its `return out`): the object's JSON, written as
// graphql.FieldSet writes it — each field under its response name, in the order the
// fields were collected, a response name once — without what FieldSet.MarshalGQL
// allocates for every object it writes: a map of the names written and a copy of
// each collected field on the heap (its iterator yields the address of its loop
// variable), two to three allocations per field of every object of a page.
//
// A field whose value is nil (taken by a @defer'd view, which our server refuses)
// is left out, as the views that take them do.
func Object(out *graphql.FieldSet, fields []graphql.CollectedField) graphql.Marshaler {
	return &object{fields: fields, values: out.Values}
}

type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o *object) MarshalGQL(w io.Writer) {
	if b, ok := w.(*bytes.Buffer); ok {
		// What gqlgen's executor writes a response into: its methods directly.
		o.writeTo(b)
		return
	}
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		v := o.values[i]
		if v == nil || o.written(i) {
			continue
		}
		if first {
			first = false
			_, _ = io.WriteString(w, `"`)
		} else {
			_, _ = io.WriteString(w, `,"`)
		}
		// A response name is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*, checked by the
		// parser): nothing in it needs escaping.
		_, _ = io.WriteString(w, o.fields[i].Alias)
		_, _ = io.WriteString(w, `":`)
		v.MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

func (o *object) writeTo(b *bytes.Buffer) {
	b.WriteByte('{')
	first := true
	for i := range o.fields {
		v := o.values[i]
		if v == nil || o.written(i) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteByte('"')
		b.WriteString(o.fields[i].Alias)
		b.WriteString(`":`)
		v.MarshalGQL(b)
	}
	b.WriteByte('}')
}

// written reports whether a field before i with a value has i's response name
// (gqlgen's collection merges those, so this is rare; a page's objects have a
// handful of fields, so the scan is cheaper than FieldSet's map).
func (o *object) written(i int) bool {
	alias := o.fields[i].Alias
	for j := range i {
		if o.values[j] != nil && o.fields[j].Alias == alias {
			return true
		}
	}
	return false
}
