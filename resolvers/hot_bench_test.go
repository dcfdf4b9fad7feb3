package resolvers

import (
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
)

// Micro-benchmarks of the per-item work of the hot paths: every edge of a page gets
// a cursor, every template message is rendered. They run only with -bench:
//
//	go test -run '^$' -bench . -benchmem ./resolvers/

var benchMessage = &db.Message{ID: db.NewMessageID(), Datetime: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)}

func BenchmarkMessageCursor_Encode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = messageCursor(benchMessage)
	}
}

func BenchmarkMessageCursor_Decode(b *testing.B) {
	c := messageCursor(benchMessage)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeMessageCursor(&c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConversationCursor_Encode(b *testing.B) {
	t := benchMessage.Datetime
	conv := &db.Conversation{ID: 123456, LastUpdateTime: &t}
	b.ReportAllocs()
	for b.Loop() {
		_ = conversationCursor(conv)
	}
}

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
