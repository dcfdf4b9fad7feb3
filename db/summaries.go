package db

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// ConversationSummary is what an inbox row shows besides the conversation itself.
type ConversationSummary struct {
	ConversationID int64
	// Contact is nil when not asked for, or when the contact is not the company's.
	Contact *User
	// LastMessage is the newest message that is not a note; nil when not asked for or
	// when there is none.
	LastMessage *Message
	// Unread counts the received messages not yet READ (0 when not asked for).
	Unread int
	// Loaded is what was asked for: a part not loaded is not known (a reader asks
	// elsewhere), and a narrowed part's other fields are zero.
	Loaded SummaryParts
}

// SummaryParts says which parts of a summary to load.
type SummaryParts struct {
	Contact, LastMessage, Unread bool
	// ContactColumns and MessageColumns, when not nil, are the only columns of the
	// contact and of the newest message to read (besides their keys, see
	// ContactKeyColumns and MessageKeyColumns); the other fields stay zero. Nil reads
	// every column. A caller narrows them only where nothing else reads the objects.
	ContactColumns, MessageColumns []string
}

// ContactKeyColumns and MessageKeyColumns are always read with a summary's contact
// and newest message: what says whose they are and what they are.
var (
	ContactKeyColumns = []string{"id", "company_id", "kind", "active"}
	MessageKeyColumns = []string{"id", "company_id", "conversation_id", "direction", "message_type", "datetime", "status"}
)

// summaryRow is one row of ListConversationSummaries; the joined rows' columns
// carry a prefix each.
type summaryRow struct {
	bun.BaseModel `bun:"table:conversations,alias:cv"`
	Conversation
	Unread  int     `bun:"unread,scanonly"`
	Contact User    `bun:"embed:u_"`
	Last    Message `bun:"embed:m_"`
}

// ListConversationSummaries is ListConversations with the asked-for parts of each
// conversation's summary, in one statement: the page is a subquery, and per
// conversation of the page (only those: the joins sit above its LIMIT) there is one
// probe each for the contact (primary key), the newest message (the keyset index)
// and the unread count (messages_unread_idx). An inbox page is then one round trip,
// where the list and the summaries by ids were two, each parsed and planned.
//
// On the database itself it is a prepared statement (prepared.go): every filter's
// values are parameters, so each shape of the statement (which filters it has) is
// parsed once per connection and planned once.
func ListConversationSummaries(ctx context.Context, idb bun.IDB, companyID int64, f ConversationFilter, after *ConversationCursor, limit int, parts SummaryParts) ([]*Conversation, []*ConversationSummary, error) {
	if _, ok := idb.(*bun.DB); !ok {
		return summarize(ctx, idb, nil, companyID, listConversations(idb, nil, companyID, f, after).Limit(limit), parts)
	}
	p := &params{}
	// The page size stays in the text: a generic plan that does not know its LIMIT
	// may hash and sort a label's conversations rather than walk a few of them (there
	// are a handful of page sizes, so a handful of statements).
	src := listConversations(idb, p, companyID, f, after).String() + " LIMIT " + strconv.Itoa(limit)
	return summarize(ctx, idb, p, companyID, bun.Safe(src), parts)
}

// ConversationWithSummary returns one conversation of the company with its whole
// summary (contact, newest message, unread count) in Summary, in one statement; nil
// when the company has no such conversation.
func ConversationWithSummary(ctx context.Context, idb bun.IDB, companyID, id int64) (*Conversation, error) {
	q := idb.NewSelect().Model((*Conversation)(nil)).
		Where("conversation.id = ?", id).Where("conversation.company_id = ?", companyID)
	convs, sums, err := summarize(ctx, idb, nil, companyID, q, SummaryParts{Contact: true, LastMessage: true, Unread: true})
	if err != nil || len(convs) == 0 {
		return nil, err
	}
	convs[0].Summary = sums[0]
	return convs[0], nil
}

// summarize selects the conversations of source (a query, or the text of one with
// p's placeholders), in the list's order, with the asked-for parts of their
// summaries; given params, as a prepared statement.
func summarize(ctx context.Context, idb bun.IDB, p *params, companyID int64, source any, parts SummaryParts) ([]*Conversation, []*ConversationSummary, error) {
	cols := summaryColumns(idb)
	sel := []string{"cv.*"}
	from := []string{"(?0) AS cv"}
	if parts.Contact {
		list, err := someColumns(idb, (*User)(nil), "u", "u_", ContactKeyColumns, parts.ContactColumns, cols.user)
		if err != nil {
			return nil, nil, err
		}
		sel = append(sel, list)
		from = append(from, "LEFT JOIN users AS u ON u.id = cv.user_id AND u.company_id = ?1")
	}
	if parts.LastMessage {
		list, err := someColumns(idb, (*Message)(nil), "m", "m_", MessageKeyColumns, parts.MessageColumns, cols.message)
		if err != nil {
			return nil, nil, err
		}
		sel = append(sel, list)
		from = append(from, `LEFT JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = cv.id AND company_id = ?1
			AND message_type <> 'NOTE' ORDER BY datetime DESC, id DESC LIMIT 1) AS m ON true`)
	}
	if parts.Unread {
		sel = append(sel, "n.unread")
		from = append(from, `CROSS JOIN LATERAL (SELECT count(*) AS unread FROM messages WHERE conversation_id = cv.id
			AND company_id = ?1 AND unread) AS n`)
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + strings.Join(from, " ") +
		" ORDER BY cv.last_update_time DESC NULLS LAST, cv.id DESC"
	var rows []summaryRow
	var err error
	if bdb, ok := idb.(*bun.DB); ok && p != nil {
		var company any = bun.Safe("NULL") // the statement names it only for a part of the summary
		if parts.Contact || parts.LastMessage || parts.Unread {
			company = p.arg(companyID)
		}
		err = queryPrepared(ctx, bdb, idb.NewRaw(q, source, company).String(), &rows, p.args...)
	} else {
		err = idb.NewRaw(q, source, companyID).Scan(ctx, &rows)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list conversations: %w", err)
	}
	convs := make([]*Conversation, len(rows))
	sums := make([]*ConversationSummary, len(rows))
	for i := range rows {
		r := &rows[i]
		convs[i] = &r.Conversation
		s := &ConversationSummary{ConversationID: r.ID, Unread: r.Unread, Loaded: parts}
		if parts.Contact && r.Contact.ID != 0 {
			s.Contact = &r.Contact
		}
		if parts.LastMessage && r.Last.ID != uuid.Nil {
			s.LastMessage = &r.Last
		}
		sums[i] = s
	}
	return convs, sums, nil
}

// columnLists are models' column lists, from the models themselves (a new column
// cannot be forgotten in a statement that names its columns): user and message as
// summaryRow scans them (prefixed), messages and conversations as prepared
// statements select them (prepared.go), and labelRows a label row's copy of its
// conversation under the conversation's column names, with its label_id
// (listConversations; a model column the label rows lack fails every label page).
type columnLists struct{ user, message, messages, conversations, labelRows string }

var summaryColumnsOnce sync.Once
var summaryCols columnLists

// someColumns is the column list of model's columns named in keys and only, in the
// model's order (one statement text per set), as summaryRow scans them; all when
// only is nil.
func someColumns(idb bun.IDB, model any, alias, prefix string, keys, only []string, all string) (string, error) {
	if only == nil {
		return all, nil
	}
	t := idb.Dialect().Tables().Get(reflect.TypeOf(model).Elem())
	want := make(map[string]bool, len(keys)+len(only))
	for _, c := range append(slices.Clone(keys), only...) {
		if _, ok := t.FieldMap[c]; !ok {
			return "", fmt.Errorf("summary: %s has no column %q", t.Name, c)
		}
		want[c] = true
	}
	var parts []string
	for _, f := range t.Fields {
		if want[f.Name] {
			parts = append(parts, selectColumn(alias, f, prefix))
		}
	}
	return strings.Join(parts, ", "), nil
}

// selectColumn is how a statement that names a model's columns selects f, under
// prefix+name when prefix is set. A uuid comes as text: the driver hands text over
// as a string, which uuid's Scan parses as it is, where it hands a uuid over as
// bytes, which Scan copies into a string first (a message id: two allocations a
// row fewer). PostgreSQL sends a uuid as text either way.
func selectColumn(alias string, f *schema.Field, prefix string) string {
	col := alias + "." + string(f.SQLName)
	as := ""
	if prefix != "" {
		as = prefix + f.Name
	}
	if f.UserSQLType == "uuid" {
		col += "::text"
		if as == "" {
			as = f.Name
		}
	}
	if as != "" {
		col += " AS " + as
	}
	return col
}

// summaryColumns returns the column lists, built once.
func summaryColumns(idb bun.IDB) columnLists {
	summaryColumnsOnce.Do(func() {
		list := func(model any, alias, prefix string) string {
			t := idb.Dialect().Tables().Get(reflect.TypeOf(model).Elem())
			parts := make([]string, len(t.Fields))
			for i, f := range t.Fields {
				parts[i] = selectColumn(alias, f, prefix)
			}
			return strings.Join(parts, ", ")
		}
		summaryCols = columnLists{user: list((*User)(nil), "u", "u_"), message: list((*Message)(nil), "m", "m_"),
			messages: list((*Message)(nil), "message", ""), conversations: list((*Conversation)(nil), `"conversation"`, "")}
		t := idb.Dialect().Tables().Get(reflect.TypeOf((*Conversation)(nil)).Elem())
		rows := make([]string, 0, len(t.Fields)+1)
		for _, f := range t.Fields {
			if f.Name == "id" {
				rows = append(rows, "cl.conversation_id AS id")
			} else {
				rows = append(rows, "cl."+string(f.SQLName))
			}
		}
		summaryCols.labelRows = strings.Join(append(rows, "cl.label_id"), ", ")
	})
	return summaryCols
}
