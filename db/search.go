package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// SearchCursor is a keyset position in search results (best rank first, then newest).
type SearchCursor struct {
	Rank     float64
	Datetime time.Time
	ID       uuid.UUID
}

// SearchHit is a message found by SearchMessages, with its rank.
type SearchHit struct {
	Message
	Rank float64 `bun:"rank"`
	// Total is the number of all the term's matches (not only this page's).
	Total int `bun:"total,scanonly"`
	// Contact is the conversation's contact, with SearchOptions.Contact (zero ID
	// when it is not the company's).
	Contact         User   `bun:"embed:u_"`
	AttachmentsJSON []byte `bun:"attachments_json,scanonly"`
}

// SearchOptions says what SearchMessages brings along with each hit.
type SearchOptions struct {
	// Attachments fills each message's Attachments (an empty list when it has none).
	Attachments bool
	// Contact fills each hit's Contact.
	Contact bool
	// WithoutNotes leaves the agents' private notes out (the legacy search).
	WithoutNotes bool
}

// searchQuery turns a user's term into a prefix tsquery over the "simple"
// configuration (works for any language): every word must match the start of a word.
// It returns "" when the term has no searchable word.
func searchQuery(term string) string {
	words := strings.FieldsFunc(term, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	parts := make([]string, 0, len(words))
	for _, w := range words {
		if len(parts) == 16 {
			break
		}
		parts = append(parts, strings.ToLower(w)+":*")
	}
	return strings.Join(parts, " & ")
}

// searchBase is the shared FROM/WHERE of a search over message_search (the text of
// the company's messages, kept out of the messages row so that its status updates
// stay cheap): full-text prefix matches, plus substring matches (trigram index) for
// parts of words and numbers.
func searchBase(idb bun.IDB, companyID int64, term string, withoutNotes bool) *bun.SelectQuery {
	tsq := searchQuery(term)
	t := strings.TrimSpace(term)
	// ?::bigint: the company is the first column of both GIN indexes (btree_gin),
	// which index only bigint = bigint.
	q := idb.NewSelect().TableExpr("message_search AS s").Where("s.company_id = ?::bigint", companyID)
	if withoutNotes {
		q = q.Where("NOT s.note")
	}
	// Trigrams need three characters: a shorter substring could only be found by
	// scanning, so short terms match word prefixes only.
	switch {
	case utf8.RuneCountInString(t) < 3 && tsq == "":
		return q.Where("false")
	case utf8.RuneCountInString(t) < 3:
		return q.Where("s.search @@ to_tsquery('simple', ?)", tsq)
	case tsq == "":
		return q.Where("s.content ILIKE ?", "%"+escapeLike(t)+"%")
	}
	return q.Where("(s.search @@ to_tsquery('simple', ?) OR s.content ILIKE ?)", tsq, "%"+escapeLike(t)+"%")
}

func rankExpr(term string) (string, []any) {
	tsq := searchQuery(term)
	return "(CASE WHEN ? <> '' THEN ts_rank(s.search, to_tsquery('simple', ?)) ELSE 0 END)::float8", []any{tsq, tsq}
}

// SearchMessages returns up to limit of the company's messages matching term after
// the cursor, best match first, then newest, with what opt asks for, in one
// statement. The matches are ranked and cut to the page on message_search alone;
// only the page's messages are read. Every hit carries the number of all matches:
// ranking has counted them already (count(*) OVER () costs nothing more), so only a
// page past the end needs CountSearch.
func SearchMessages(ctx context.Context, idb bun.IDB, companyID int64, term string, after *SearchCursor, offset, limit int, opt SearchOptions) ([]*SearchHit, error) {
	rank, args := rankExpr(term)
	inner := searchBase(idb, companyID, term, opt.WithoutNotes).ColumnExpr("s.message_id, s.datetime").ColumnExpr(rank+" AS rank", args...).
		ColumnExpr("count(*) OVER () AS total")
	page := idb.NewSelect().TableExpr("(?) AS hit", inner).ColumnExpr("hit.*").
		OrderExpr("hit.rank DESC, hit.datetime DESC, hit.message_id DESC").Limit(limit)
	if offset > 0 {
		page = page.Offset(offset)
	}
	if after != nil {
		page = page.Where("(hit.rank < ? OR (hit.rank = ? AND (hit.datetime, hit.message_id) < (?, ?)))",
			after.Rank, after.Rank, after.Datetime, after.ID)
	}
	q := idb.NewSelect().TableExpr("(?) AS p", page).
		Join("JOIN messages AS message ON message.id = p.message_id AND message.company_id = ?", companyID).
		ColumnExpr("message.*, p.rank, p.total").
		OrderExpr("p.rank DESC, p.datetime DESC, p.message_id DESC")
	if opt.Attachments {
		q = q.ColumnExpr(attachmentsColumn)
	}
	if opt.Contact {
		q = q.ColumnExpr(summaryColumns(idb).user).
			Join("LEFT JOIN conversations AS cv ON cv.id = message.conversation_id AND cv.company_id = ?", companyID).
			Join("LEFT JOIN users AS u ON u.id = cv.user_id AND u.company_id = ?", companyID)
	}
	var hits []*SearchHit
	if err := q.Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	if opt.Attachments {
		for _, h := range hits {
			h.Message.Attachments = []*Attachment{}
			if len(h.AttachmentsJSON) > 0 {
				if err := json.Unmarshal(h.AttachmentsJSON, &h.Message.Attachments); err != nil {
					return nil, fmt.Errorf("attachments of %s: %w", h.HexID(), err)
				}
			}
		}
	}
	return hits, nil
}

// CountSearch counts the company's messages matching term (without the notes when
// withoutNotes).
func CountSearch(ctx context.Context, idb bun.IDB, companyID int64, term string, withoutNotes bool) (int, error) {
	return searchBase(idb, companyID, term, withoutNotes).Count(ctx)
}
