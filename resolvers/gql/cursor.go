package gql

import (
	"encoding/base64"
	"encoding/binary"
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

// The two cursors of every page, a message's and a conversation's, are binary rather
// than JSON: a version byte, the kind, then the keyset position in fixed widths
// (times as Unix nanoseconds, which hold PostgreSQL's microseconds exactly). They
// cost one allocation and a few dozen nanoseconds to write, where JSON cost seven
// allocations and 1.7 µs, on every edge of every page. Cursors written as JSON
// before (a client may hold one across an upgrade) are still read.
const (
	binaryCursor = 1
	// messageCursorLen: version, kind, time, id (a UUID).
	messageCursorLen = 2 + 8 + 16
	// conversationCursorLen: version, kind, has-time, time, id.
	conversationCursorLen = 3 + 8 + 8
)

// encodeBinary writes b as a cursor string with a single allocation.
func encodeBinary(b []byte) string {
	var out [64]byte
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

// decodeBinary returns the bytes of a binary cursor of kind with n bytes, or nil
// when s is not one (then it may be a JSON cursor).
func decodeBinary(s string, kind byte, n int) []byte {
	if base64.RawURLEncoding.DecodedLen(len(s)) != n {
		return nil
	}
	var buf [64]byte
	b, err := base64.RawURLEncoding.AppendDecode(buf[:0], []byte(s))
	if err != nil || len(b) != n || b[0] != binaryCursor || b[1] != kind {
		return nil
	}
	return b
}

// nanosFit reports whether t is within Unix nanoseconds' range (1678 to 2261);
// a cursor of a time outside it (a position a JSON cursor could name) stays JSON.
func nanosFit(t time.Time) bool {
	y := t.UTC().Year()
	return y > 1678 && y < 2261
}

func conversationCursor(c *db.Conversation) string {
	if c.LastUpdateTime != nil && !nanosFit(*c.LastUpdateTime) {
		return encodeCursor(cursor{Kind: cursorConversation, Time: c.LastUpdateTime, N: c.ID})
	}
	var b [conversationCursorLen]byte
	b[0], b[1] = binaryCursor, cursorConversation[0]
	if c.LastUpdateTime != nil {
		b[2] = 1
		binary.BigEndian.PutUint64(b[3:], uint64(c.LastUpdateTime.UnixNano()))
	}
	binary.BigEndian.PutUint64(b[11:], uint64(c.ID))
	return encodeBinary(b[:])
}

func decodeConversationCursor(s *string) (*db.ConversationCursor, error) {
	if s == nil {
		return nil, nil
	}
	if b := decodeBinary(*s, cursorConversation[0], conversationCursorLen); b != nil {
		id := int64(binary.BigEndian.Uint64(b[11:]))
		if id <= 0 || b[2] > 1 || (b[2] == 0 && binary.BigEndian.Uint64(b[3:]) != 0) {
			return nil, errBadCursor
		}
		cur := &db.ConversationCursor{ID: id}
		if b[2] == 1 {
			t := time.Unix(0, int64(binary.BigEndian.Uint64(b[3:]))).UTC()
			cur.LastUpdate = &t
		}
		return cur, nil
	}
	c, err := decodeCursor(*s, cursorConversation)
	if err != nil || c.N <= 0 {
		return nil, errBadCursor
	}
	return &db.ConversationCursor{LastUpdate: c.Time, ID: c.N}, nil
}

func messageCursor(m *db.Message) string {
	if !nanosFit(m.Datetime) {
		t := m.Datetime
		return encodeCursor(cursor{Kind: cursorMessage, Time: &t, ID: m.HexID()})
	}
	var b [messageCursorLen]byte
	b[0], b[1] = binaryCursor, cursorMessage[0]
	binary.BigEndian.PutUint64(b[2:], uint64(m.Datetime.UnixNano()))
	copy(b[10:], m.ID[:])
	return encodeBinary(b[:])
}

func decodeMessageCursor(s *string) (*db.MessageCursor, error) {
	if s == nil {
		return nil, nil
	}
	if b := decodeBinary(*s, cursorMessage[0], messageCursorLen); b != nil {
		id, _ := uuid.FromBytes(b[10:])
		return &db.MessageCursor{Datetime: time.Unix(0, int64(binary.BigEndian.Uint64(b[2:]))).UTC(), ID: id}, nil
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
