package gql

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// FuzzDecodeCursors feeds arbitrary strings to every cursor decoder: none may panic,
// each refuses with the one BAD_USER_INPUT cursor error, and what one accepts
// re-encodes to a cursor that decodes to the same position.
func FuzzDecodeCursors(f *testing.F) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	id := uuid.MustParse("0190a3b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b")
	f.Add(conversationCursor(&db.Conversation{ID: 42, LastUpdateTime: &at}))
	f.Add(conversationCursor(&db.Conversation{ID: 7}))
	f.Add(messageCursor(&db.Message{ID: id, Datetime: at}))
	f.Add(searchCursor(&db.SearchHit{Message: db.Message{ID: id, Datetime: at}, Rank: 0.25}))
	f.Add(contactCursor(&db.User{ID: 9, FirstName: "Nimal", LastName: "Perera"}))
	// Cursors written as JSON before the binary ones (a client may hold one).
	f.Add(encodeCursor(cursor{Kind: cursorMessage, Time: &at, ID: db.HexID(id)}))
	f.Add(encodeCursor(cursor{Kind: cursorConversation, Time: &at, N: 42}))
	f.Add("")
	f.Add("not base64!")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"k":"m","t":"not a time","i":"x"}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"k":"c","n":-1}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"k":"s","t":"2026-05-01T12:00:00Z","i":"` + id.String() + `","r":1e308}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"k":"u","n":9223372036854775807,"a":"\u0000","b":"\ud800"}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`[1,2,3]`)))
	f.Add(strings.Repeat("A", 600))
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			for name, err := range map[string]error{
				"conversation": second(decodeConversationCursor(&s)), "message": second(decodeMessageCursor(&s)),
				"search": second(decodeSearchCursor(&s)), "contact": second(decodeContactCursor(&s)),
			} {
				if err == nil {
					t.Fatalf("%s cursor of %d bytes accepted", name, len(s))
				}
			}
		}
		refused := func(name string, err error) {
			t.Helper()
			if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e != errBadCursor {
				t.Fatalf("%s(%q) refused with %v, want the cursor error", name, s, err)
			}
		}
		storable := func(name string, at *time.Time) {
			t.Helper()
			if at != nil && (at.UTC().Year() < 1 || at.UTC().Year() > 9999) {
				t.Fatalf("%s cursor with time %v accepted: PostgreSQL cannot take it", name, at)
			}
		}
		if c, err := decodeConversationCursor(&s); err != nil {
			refused("conversation", err)
		} else {
			storable("conversation", c.LastUpdate)
			if c.ID <= 0 {
				t.Fatalf("conversation cursor with id %d accepted", c.ID)
			}
			again, err := decodeConversationCursor(ptr(conversationCursor(&db.Conversation{ID: c.ID, LastUpdateTime: c.LastUpdate})))
			if err != nil || again.ID != c.ID || (again.LastUpdate == nil) != (c.LastUpdate == nil) ||
				c.LastUpdate != nil && !again.LastUpdate.Equal(*c.LastUpdate) {
				t.Fatalf("conversation cursor does not round-trip: %+v -> %+v %v", c, again, err)
			}
		}
		if c, err := decodeMessageCursor(&s); err != nil {
			refused("message", err)
		} else {
			storable("message", &c.Datetime)
			again, err := decodeMessageCursor(ptr(messageCursor(&db.Message{ID: c.ID, Datetime: c.Datetime})))
			if err != nil || again.ID != c.ID || !again.Datetime.Equal(c.Datetime) {
				t.Fatalf("message cursor does not round-trip: %+v -> %+v %v", c, again, err)
			}
		}
		if c, err := decodeSearchCursor(&s); err != nil {
			refused("search", err)
		} else {
			storable("search", &c.Datetime)
			again, err := decodeSearchCursor(ptr(searchCursor(&db.SearchHit{Message: db.Message{ID: c.ID, Datetime: c.Datetime}, Rank: c.Rank})))
			if err != nil || again.ID != c.ID || !again.Datetime.Equal(c.Datetime) || again.Rank != c.Rank {
				t.Fatalf("search cursor does not round-trip: %+v -> %+v %v", c, again, err)
			}
		}
		if c, err := decodeContactCursor(&s); err != nil {
			refused("contact", err)
		} else {
			if c.ID <= 0 {
				t.Fatalf("contact cursor with id %d accepted", c.ID)
			}
			again, err := decodeContactCursor(ptr(contactCursor(&db.User{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName})))
			if err != nil || *again != *c {
				t.Fatalf("contact cursor does not round-trip: %+v -> %+v %v", c, again, err)
			}
		}
	})
}

func ptr(s string) *string { return &s }

func second[T any](_ T, err error) error { return err }

// The binary cursors keep the position exactly, are refused by another list, and
// the JSON cursors given out before them still work.
func TestCursors_BinaryAndJSON(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.FixedZone("Colombo", 19800))
	id := uuid.MustParse("0190a3b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b")
	mc := messageCursor(&db.Message{ID: id, Datetime: at})
	if len(mc) > 40 {
		t.Errorf("message cursor %q is %d characters", mc, len(mc))
	}
	m, err := decodeMessageCursor(&mc)
	if err != nil || m.ID != id || !m.Datetime.Equal(at) {
		t.Fatalf("message cursor: %+v %v", m, err)
	}
	cc := conversationCursor(&db.Conversation{ID: 42, LastUpdateTime: &at})
	c, err := decodeConversationCursor(&cc)
	if err != nil || c.ID != 42 || c.LastUpdate == nil || !c.LastUpdate.Equal(at) {
		t.Fatalf("conversation cursor: %+v %v", c, err)
	}
	nc := conversationCursor(&db.Conversation{ID: 7})
	if c, err := decodeConversationCursor(&nc); err != nil || c.ID != 7 || c.LastUpdate != nil {
		t.Fatalf("conversation cursor without a time: %+v %v", c, err)
	}
	if _, err := decodeConversationCursor(&mc); err == nil {
		t.Error("a message cursor was taken as a conversation's")
	}
	if _, err := decodeMessageCursor(&cc); err == nil {
		t.Error("a conversation cursor was taken as a message's")
	}
	old := encodeCursor(cursor{Kind: cursorMessage, Time: &at, ID: db.HexID(id)})
	if m, err := decodeMessageCursor(&old); err != nil || m.ID != id || !m.Datetime.Equal(at) {
		t.Fatalf("a JSON message cursor of before: %+v %v", m, err)
	}
	oldC := encodeCursor(cursor{Kind: cursorConversation, Time: &at, N: 42})
	if c, err := decodeConversationCursor(&oldC); err != nil || c.ID != 42 || !c.LastUpdate.Equal(at) {
		t.Fatalf("a JSON conversation cursor of before: %+v %v", c, err)
	}
	// A time outside Unix nanoseconds' range keeps the JSON form, exactly.
	far := time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)
	fc := messageCursor(&db.Message{ID: id, Datetime: far})
	if m, err := decodeMessageCursor(&fc); err != nil || !m.Datetime.Equal(far) {
		t.Fatalf("a cursor of 2400: %+v %v", m, err)
	}
}
