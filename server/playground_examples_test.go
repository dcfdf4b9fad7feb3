package server_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/connectme/connectme/graph"
	"github.com/vektah/gqlparser/v2"
)

// The playground opens with example operations (server/playground/assets/playground.js).
// As one document they must be valid against the schema, names unique: GraphiQL
// sends the whole document with the chosen operation, so one bad example breaks
// them all.
func TestPlayground_ExamplesAreValidAgainstTheSchema(t *testing.T) {
	src, err := os.ReadFile("playground/assets/playground.js")
	if err != nil {
		t.Fatal(err)
	}
	// The schema the server serves (schema.graphqls and schema/*.graphqls).
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	// The document is an array of string literals, one line each, joined by "\n".
	const open = "var defaultQuery = [\n"
	js := strings.ReplaceAll(string(src), `' + tomorrow + '`, "2030-01-01T00:00:00.000Z")
	start := strings.Index(js, open)
	end := strings.Index(js, "].join('\\n')")
	if start < 0 || end < start {
		t.Fatal("playground.js: the examples array was not found")
	}
	start += len(open) - 2
	line := regexp.MustCompile(`^\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"),?\s*$`)
	var doc strings.Builder
	for _, l := range strings.Split(js[start+2:end], "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("playground.js: not a string literal line: %q", l)
		}
		lit := m[1][1 : len(m[1])-1]
		lit = strings.NewReplacer(`\'`, `'`, `\"`, `"`, `\\`, `\`).Replace(lit)
		doc.WriteString(lit + "\n")
	}
	q, errs := gqlparser.LoadQueryWithRules(schema, doc.String(), nil) // nil: the default rules
	if len(errs) > 0 {
		t.Fatalf("the playground's examples are not valid: %v", errs)
	}
	if len(q.Operations) < 15 {
		t.Fatalf("%d example operations, want the documented ones (at least 15)", len(q.Operations))
	}
}
