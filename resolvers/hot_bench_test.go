package resolvers

import (
	"strings"
	"testing"
)

// Micro-benchmarks of the per-item work of the hot paths: every template message is
// rendered (the cursors' are in resolvers/gql). They run only with -bench:
//
//	go test -run '^$' -bench . -benchmem ./resolvers/

func BenchmarkRenderTemplate(b *testing.B) {
	content := "Your {{1}} order of {{2}} has shipped and should be delivered on {{3}}. Details : {{4}}"
	params := []string{"Kandy", "two pairs of shoes", "Friday 9 January", "https://example.com/track/8305"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderTemplate(content, params); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderTemplate_Long(b *testing.B) {
	// The longest a template may render to, with ten placeholders.
	var sb strings.Builder
	params := make([]string, 10)
	for i := range params {
		sb.WriteString(strings.Repeat("text ", 18) + "{{" + string(rune('1'+i%9)) + "}} ")
		params[i] = "parameter"
	}
	sb.WriteString("{{10}}")
	content := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderTemplate(content, params); err != nil {
			b.Fatal(err)
		}
	}
}
