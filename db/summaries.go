package db

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ConversationSummary is what an inbox row shows besides the conversation itself.
type ConversationSummary struct {
	ConversationID int64
	// Contact is nil when not asked for, or when the contact is not the company's.
	Contact *User
	// LastMessage is the newest message; nil when not asked for or when there is none.
	LastMessage *Message
	// Unread counts the received messages not yet READ (0 when not asked for).
	Unread int
}

// SummaryParts says which parts of a summary to load.
type SummaryParts struct {
	Contact, LastMessage, Unread bool
}

// summaryRow is one row of ConversationSummaries; the joined rows' columns carry a
// prefix each.
type summaryRow struct {
	ConversationID int64   `bun:"conversation_id"`
	Unread         int     `bun:"unread"`
	Contact        User    `bun:"embed:u_"`
	Last           Message `bun:"embed:m_"`
}

// ConversationSummaries returns the asked-for parts of the summaries of the
// company's conversations among ids, in one query rather than one per part: per
// conversation, one probe each for the contact (primary key), the newest message
// (the keyset index) and the unread count (messages_unread_idx).
func ConversationSummaries(ctx context.Context, idb bun.IDB, companyID int64, ids []int64, parts SummaryParts) ([]*ConversationSummary, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cols := summaryColumns(idb)
	sel := []string{"c.id AS conversation_id"}
	from := []string{"unnest(?0::bigint[]) AS c(id)", "JOIN conversations AS cv ON cv.id = c.id AND cv.company_id = ?1"}
	if parts.Contact {
		sel = append(sel, cols.user)
		from = append(from, "LEFT JOIN users AS u ON u.id = cv.user_id AND u.company_id = ?1")
	}
	if parts.LastMessage {
		sel = append(sel, cols.message)
		from = append(from, `LEFT JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = c.id AND company_id = ?1
			ORDER BY datetime DESC, id DESC LIMIT 1) AS m ON true`)
	}
	if parts.Unread {
		sel = append(sel, "n.unread")
		from = append(from, `CROSS JOIN LATERAL (SELECT count(*) AS unread FROM messages WHERE conversation_id = c.id
			AND company_id = ?1 AND unread) AS n`)
	}
	var rows []summaryRow
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + strings.Join(from, " ")
	if err := idb.NewRaw(q, pgArray(ids), companyID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("conversation summaries: %w", err)
	}
	out := make([]*ConversationSummary, len(rows))
	for i := range rows {
		r := &rows[i]
		s := &ConversationSummary{ConversationID: r.ConversationID, Unread: r.Unread}
		if parts.Contact && r.Contact.ID != 0 {
			s.Contact = &r.Contact
		}
		if parts.LastMessage && r.Last.ID != uuid.Nil {
			s.LastMessage = &r.Last
		}
		out[i] = s
	}
	return out, nil
}

type summarySelect struct{ user, message string }

var summaryColumnsOnce sync.Once
var summaryCols summarySelect

// summaryColumns lists users' and messages' columns with the prefixes summaryRow
// scans, from the models themselves (a new column cannot be forgotten here).
func summaryColumns(idb bun.IDB) summarySelect {
	summaryColumnsOnce.Do(func() {
		list := func(model any, alias, prefix string) string {
			t := idb.Dialect().Tables().Get(reflect.TypeOf(model).Elem())
			parts := make([]string, len(t.Fields))
			for i, f := range t.Fields {
				parts[i] = alias + "." + string(f.SQLName) + " AS " + prefix + f.Name
			}
			return strings.Join(parts, ", ")
		}
		summaryCols = summarySelect{user: list((*User)(nil), "u", "u_"), message: list((*Message)(nil), "m", "m_")}
	})
	return summaryCols
}
