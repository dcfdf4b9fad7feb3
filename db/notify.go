package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Notification is a NOTIFY that a statement of db sends while it stores what the
// notification announces, so that announcing costs no round trip of its own. It is
// plain data, built above db: db knows nothing of what it says.
type Notification struct {
	Channel string
	// Payload is a JSON object.
	Payload string
	// ConversationKey, when set, is the payload key that gets the id of the
	// conversation the statement finds or creates (unknown before it runs).
	ConversationKey string
	// Log, when set, is the event-log row the statement writes beside the NOTIFY,
	// in the same transaction (eventlog.go).
	Log *LogEntry
}

// notifyColumns renders ns as the select list of the statement that stores what
// they announce: pg_notify calls, sent when the transaction commits. convID is the
// SQL expression of the conversation's id in that statement.
func notifyColumns(convID string, ns []Notification) (string, []any) {
	var q strings.Builder
	args := make([]any, 0, 3*len(ns))
	for i, n := range ns {
		if i > 0 {
			q.WriteString(", ")
		}
		if n.ConversationKey == "" {
			q.WriteString("pg_notify(?, ?)")
			args = append(args, n.Channel, n.Payload)
			continue
		}
		fmt.Fprintf(&q, "pg_notify(?, jsonb_set(?::jsonb, ARRAY[?], to_jsonb(%s))::text)", convID)
		args = append(args, n.Channel, n.Payload, n.ConversationKey)
	}
	return q.String(), args
}

// Notify sends ns, in order, when idb's transaction commits (at once outside one),
// in one statement however many there are. A ConversationKey is ignored: there is
// no conversation in this statement.
func Notify(ctx context.Context, idb bun.IDB, ns ...Notification) error {
	if len(ns) == 0 {
		return nil
	}
	plain := make([]Notification, len(ns))
	for i, n := range ns {
		plain[i] = Notification{Channel: n.Channel, Payload: n.Payload}
	}
	cols, args := notifyColumns("NULL", plain)
	q := "SELECT " + cols
	if ins, insArgs := logInsert("NULL", ns); ins != "" {
		// A data-modifying WITH runs to completion whether or not it is read.
		q = "WITH logged AS (" + ins + ") " + q
		args = append(insArgs, args...)
	}
	if _, err := idb.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("notify %s: %w", ns[0].Channel, err)
	}
	return nil
}
