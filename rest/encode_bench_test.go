package rest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
)

// Micro-benchmarks of the legacy encoding, run only with -bench:
//
//	go test -run '^$' -bench . -benchmem ./rest/

// benchPage is a legacy page of 20 messages, one of them with an attachment.
func benchPage() messagePage {
	msgs := make([]*db.Message, 20)
	at := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	for i := range msgs {
		content := "Hi, is my order on its way? It was supposed to arrive yesterday."
		msgs[i] = &db.Message{ID: db.NewMessageID(), ConversationID: 4242, Direction: db.DirectionReceived,
			MessageType: db.TypeText, Content: &content, Datetime: at.Add(-time.Duration(i) * time.Minute),
			Status: db.StatusRead, Attachments: []*db.Attachment{}}
	}
	ord := 0
	msgs[3].MessageType = db.TypeMedia
	msgs[3].Attachments = []*db.Attachment{{ID: 77, Order: &ord, Type: db.AttachmentImage, Filename: "photo.jpg", Filesize: 48213}}
	return toMessagePage(msgs, 1234, 1, 20)
}

func BenchmarkWriteJSON_MessagePage(b *testing.B) {
	page := benchPage()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeJSON(w, 200, page)
	}
}

func BenchmarkToMessagePage(b *testing.B) {
	page := benchPage()
	msgs := make([]*db.Message, len(page.Data))
	for i := range msgs {
		msgs[i] = &db.Message{ID: db.NewMessageID(), Datetime: time.Now(), Attachments: []*db.Attachment{}}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = toMessagePage(msgs, 1234, 1, 20)
	}
}

func BenchmarkLegacyTime(b *testing.B) {
	t := T(time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
