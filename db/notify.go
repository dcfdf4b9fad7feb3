package db

import (
	"fmt"
	"strings"
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
