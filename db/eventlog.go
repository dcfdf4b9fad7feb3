package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Event is one row of a company's event log: what happened, not a snapshot of it.
// Its position in the log is (XID, ID) (see the migration event_log).
type Event struct {
	bun.BaseModel `bun:"table:events"`

	ID             int64      `bun:"id,pk,autoincrement"`
	CompanyID      int64      `bun:"company_id,notnull"`
	XID            int64      `bun:"xid,notnull"`
	Type           string     `bun:"type,notnull"`
	ConversationID *int64     `bun:"conversation_id"`
	MessageID      *uuid.UUID `bun:"message_id,type:uuid"`
	OccurredAt     time.Time  `bun:"occurred_at,notnull"`
}

// The event types, as stored (and as GraphQL names them).
const (
	EventMessageAdded         = "MESSAGE_ADDED"
	EventMessageStatusChanged = "MESSAGE_STATUS_CHANGED"
	EventConversationUpdated  = "CONVERSATION_UPDATED"
)

// LogEntry is the event-log row a Notification also writes. ConversationID 0 is
// the conversation the statement finds or creates; MessageID is hex or empty.
type LogEntry struct {
	CompanyID      int64
	Type           string
	ConversationID int64
	MessageID      string
}

// Position is a place in a company's event log: after it come the events whose
// (XID, ID) is greater. The zero Position is before every event.
type Position struct {
	XID, ID int64
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	return p.XID < q.XID || p.XID == q.XID && p.ID < q.ID
}

// Position returns e's position.
func (e *Event) Position() Position { return Position{XID: e.XID, ID: e.ID} }

// logInsert renders the log entries of ns as one INSERT, or "" when none has one.
// convID is a scalar SQL expression of the statement's conversation id.
func logInsert(convID string, ns []Notification) (string, []any) {
	var q strings.Builder
	var args []any
	for _, n := range ns {
		e := n.Log
		if e == nil {
			continue
		}
		if len(args) == 0 {
			q.WriteString("INSERT INTO events (company_id, type, conversation_id, message_id) VALUES ")
		} else {
			q.WriteString(", ")
		}
		var msg any
		if e.MessageID != "" {
			msg = e.MessageID
		}
		if e.ConversationID == 0 {
			fmt.Fprintf(&q, "(?, ?, %s, ?::uuid)", convID)
			args = append(args, e.CompanyID, e.Type, msg)
		} else {
			q.WriteString("(?, ?, ?, ?::uuid)")
			args = append(args, e.CompanyID, e.Type, e.ConversationID, msg)
		}
	}
	return q.String(), args
}

// finalColumn is true for a row whose transaction, and every transaction that
// could still write a row ordered before it, has ended: the row is final.
const finalColumn = "xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

// EventsAfter returns up to limit of the company's final events after p, oldest
// first, and whether committed events after them are not final yet (the caller
// looks again shortly: an older transaction is still running).
func EventsAfter(ctx context.Context, idb bun.IDB, companyID int64, p Position, limit int) ([]*Event, bool, error) {
	var rows []eventRow
	err := idb.NewRaw(`SELECT id, company_id, xid, type, conversation_id, message_id, occurred_at, `+finalColumn+` AS final
		FROM events WHERE company_id = ? AND (xid, id) > (?, ?) ORDER BY xid, id LIMIT ?`,
		companyID, p.XID, p.ID, limit+1).Scan(ctx, &rows)
	if err != nil {
		return nil, false, fmt.Errorf("events after: %w", err)
	}
	out := make([]*Event, 0, len(rows))
	pending := false
	for i := range rows {
		if !rows[i].Final {
			// Final rows sort before the others: the rest are not final either.
			pending = true
			break
		}
		if len(out) == limit {
			break
		}
		out = append(out, &rows[i].Event)
	}
	return out, pending, nil
}

// eventRow is an Event and whether it is final (finalColumn).
type eventRow struct {
	Event
	Final bool `bun:"final"`
}

// EventsHead returns the position of the company's newest final event, or its
// retention horizon, or the zero Position when it has neither.
func EventsHead(ctx context.Context, idb bun.IDB, companyID int64) (Position, error) {
	var p Position
	err := idb.NewRaw(`SELECT coalesce(e.xid, h.xid, 0) AS xid, coalesce(e.id, h.id, 0) AS id
		FROM (SELECT 1) AS one
		LEFT JOIN LATERAL (SELECT xid, id FROM events WHERE company_id = ? AND `+finalColumn+`
			ORDER BY xid DESC, id DESC LIMIT 1) AS e ON true
		LEFT JOIN event_horizons AS h ON h.company_id = ?`, companyID, companyID).Scan(ctx, &p.XID, &p.ID)
	if err != nil {
		return p, fmt.Errorf("events head: %w", err)
	}
	return p, nil
}

// EventHorizon returns the newest position the retention job removed of the
// company's log (the zero Position when it removed none).
func EventHorizon(ctx context.Context, idb bun.IDB, companyID int64) (Position, error) {
	var ps []Position
	err := idb.NewRaw("SELECT xid, id FROM event_horizons WHERE company_id = ?", companyID).Scan(ctx, &ps)
	if err != nil {
		return Position{}, fmt.Errorf("event horizon: %w", err)
	}
	if len(ps) == 0 {
		return Position{}, nil
	}
	return ps[0], nil
}

// PurgeEvents deletes up to batch events that occurred before cutoff, oldest
// first, moving each company's horizon past what it removed, and returns how many
// it removed. The deletion and the horizon are one statement.
func PurgeEvents(ctx context.Context, idb bun.IDB, cutoff time.Time, batch int) (int, error) {
	var n int
	err := idb.NewRaw(`WITH gone AS (
			DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE occurred_at < ? ORDER BY id LIMIT ?)
			RETURNING company_id, xid, id),
		newest AS (
			SELECT DISTINCT ON (company_id) company_id, xid, id FROM gone
			ORDER BY company_id, xid DESC, id DESC),
		moved AS (
			INSERT INTO event_horizons AS h (company_id, xid, id) SELECT company_id, xid, id FROM newest
			ON CONFLICT (company_id) DO UPDATE SET xid = EXCLUDED.xid, id = EXCLUDED.id
			WHERE (h.xid, h.id) < (EXCLUDED.xid, EXCLUDED.id))
		SELECT count(*) FROM gone`, cutoff, batch).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	return n, nil
}
