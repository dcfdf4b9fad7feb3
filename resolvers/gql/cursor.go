package gql

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// Cursors are opaque to clients: base64url of a small JSON keyset position, tagged
// with the list they belong to so a cursor of one list is refused by another.
type cursor struct {
	Kind string     `json:"k"`
	Time *time.Time `json:"t,omitempty"`
	ID   string     `json:"i,omitempty"`
	N    int64      `json:"n,omitempty"`
	Rank *float64   `json:"r,omitempty"`
	A    string     `json:"a,omitempty"`
	B    string     `json:"b,omitempty"`
}

const (
	cursorConversation = "c"
	cursorMessage      = "m"
	cursorSearch       = "s"
	cursorContact      = "u"
)

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = apperr.Invalidf("invalid cursor: use a cursor from this list's pageInfo or edges")

func decodeCursor(s, kind string) (cursor, error) {
	var c cursor
	if len(s) > 512 {
		return c, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != kind {
		return c, errBadCursor
	}
	// Our cursors carry stored timestamps. A forged one whose time falls before year
	// 1 in UTC ("0000-01-01T00:00:00+01:00" parses) would reach PostgreSQL as
	// "-0001-…", which it refuses: a 500 instead of a 400 (found by
	// FuzzDecodeCursors' corpus).
	if c.Time != nil && (c.Time.UTC().Year() < 1 || c.Time.UTC().Year() > 9999) {
		return c, errBadCursor
	}
	return c, nil
}

func conversationCursor(c *db.Conversation) string {
	return encodeCursor(cursor{Kind: cursorConversation, Time: c.LastUpdateTime, N: c.ID})
}

func decodeConversationCursor(s *string) (*db.ConversationCursor, error) {
	if s == nil {
		return nil, nil
	}
	c, err := decodeCursor(*s, cursorConversation)
	if err != nil || c.N <= 0 {
		return nil, errBadCursor
	}
	return &db.ConversationCursor{LastUpdate: c.Time, ID: c.N}, nil
}

func messageCursor(m *db.Message) string {
	t := m.Datetime
	return encodeCursor(cursor{Kind: cursorMessage, Time: &t, ID: m.HexID()})
}

func decodeMessageCursor(s *string) (*db.MessageCursor, error) {
	if s == nil {
		return nil, nil
	}
	c, err := decodeCursor(*s, cursorMessage)
	if err != nil || c.Time == nil {
		return nil, errBadCursor
	}
	id, err := uuid.Parse(c.ID)
	if err != nil {
		return nil, errBadCursor
	}
	return &db.MessageCursor{Datetime: *c.Time, ID: id}, nil
}

func searchCursor(h *db.SearchHit) string {
	t, r := h.Datetime, h.Rank
	return encodeCursor(cursor{Kind: cursorSearch, Time: &t, ID: h.HexID(), Rank: &r})
}

func decodeSearchCursor(s *string) (*db.SearchCursor, error) {
	if s == nil {
		return nil, nil
	}
	c, err := decodeCursor(*s, cursorSearch)
	if err != nil || c.Time == nil || c.Rank == nil {
		return nil, errBadCursor
	}
	id, err := uuid.Parse(c.ID)
	if err != nil {
		return nil, errBadCursor
	}
	return &db.SearchCursor{Rank: *c.Rank, Datetime: *c.Time, ID: id}, nil
}

func contactCursor(u *db.User) string {
	return encodeCursor(cursor{Kind: cursorContact, N: u.ID, A: u.FirstName, B: u.LastName})
}

func decodeContactCursor(s *string) (*db.ContactCursor, error) {
	if s == nil {
		return nil, nil
	}
	c, err := decodeCursor(*s, cursorContact)
	if err != nil || c.N <= 0 {
		return nil, errBadCursor
	}
	return &db.ContactCursor{FirstName: c.A, LastName: c.B, ID: c.N}, nil
}
