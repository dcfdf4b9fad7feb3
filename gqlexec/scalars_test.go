package gqlexec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// written is what m writes into the executor's buffer (with something in it
// already, as an answer has) and into a plain writer.
func written(t testing.TB, m graphql.Marshaler) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("{")
	m.MarshalGQL(&buf)
	var plain strings.Builder
	m.MarshalGQL(&plain)
	if got := strings.TrimPrefix(buf.String(), "{"); got != plain.String() {
		t.Fatalf("into a buffer %q, into a writer %q", got, plain.String())
	}
	return plain.String()
}

func gqlgenWrote(m graphql.Marshaler) string {
	var b strings.Builder
	m.MarshalGQL(&b)
	return b.String()
}

func TestStringAt_WritesAsGqlgen(t *testing.T) {
	for _, s := range []string{"", "hello", `say "hi"`, `C:\path`, "tab\there\r\nnext", "\x00\x01\x1f\x7f",
		"\b\f", "héllo wörld ✓ 👋", "bad \xff\xfe utf-8", "\u2028\u2029", strings.Repeat("long ", 300)} {
		want := gqlgenWrote(graphql.MarshalString(s))
		if got := written(t, StringAt(&s)); got != want {
			t.Errorf("StringAt(%q) wrote %q, gqlgen %q", s, got, want)
		}
	}
}

func FuzzStringAt(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\n\t\r", "é\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := written(t, StringAt(&s)), gqlgenWrote(graphql.MarshalString(s)); got != want {
			t.Fatalf("StringAt(%q) wrote %q, gqlgen %q", s, got, want)
		}
	})
}

func TestIntAtAndBool_WriteAsGqlgen(t *testing.T) {
	for _, i := range []int{0, 7, -1, 99, 100, 123456789, -9223372036854775808, 9223372036854775807} {
		if got, want := written(t, IntAt(&i)), gqlgenWrote(graphql.MarshalInt(i)); got != want {
			t.Errorf("IntAt(%d) wrote %q, gqlgen %q", i, got, want)
		}
	}
	for _, b := range []bool{true, false} {
		if got, want := written(t, Bool(b)), gqlgenWrote(graphql.MarshalBoolean(b)); got != want {
			t.Errorf("Bool(%v) wrote %q, gqlgen %q", b, got, want)
		}
	}
}

// The twins read the field when the answer is written, and cost nothing to make
// nor, into the executor's buffer, to write.
func TestScalarTwins_ReadWhenWrittenWithoutAllocating(t *testing.T) {
	row := struct {
		Name  string
		Count int
	}{"before", 1}
	name, count := StringAt(&row.Name), IntAt(&row.Count)
	row.Name, row.Count = "after", 2
	if got := written(t, name) + written(t, count); got != `"after"2` {
		t.Errorf("wrote %s, want the field as it is when written", got)
	}
	var buf bytes.Buffer
	buf.Grow(1 << 10)
	var sink graphql.Marshaler
	allocs := testing.AllocsPerRun(100, func() {
		buf.Reset()
		sink = StringAt(&row.Name)
		sink.MarshalGQL(&buf)
		sink = IntAt(&row.Count)
		sink.MarshalGQL(&buf)
		sink = Bool(row.Count > 1)
		sink.MarshalGQL(&buf)
	})
	if allocs != 0 {
		t.Errorf("%v allocations a run, want none", allocs)
	}
}
