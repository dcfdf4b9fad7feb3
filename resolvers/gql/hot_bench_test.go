package gql

import (
	"testing"
	"time"

	"github.com/connectme/connectme/db"
)

// Micro-benchmarks of the per-item work of the hot paths: every edge of a page gets
// a cursor. They run only with -bench:
//
//	go test -run '^$' -bench . -benchmem ./resolvers/gql/

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
