package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// Events are published inside the transaction that made the change: PostgreSQL
// delivers them to every instance on commit, and never for a rollback. Every event
// is built here. A change that raises several publishes them together, in one
// statement (publish), or hands them to the db statement that makes the change,
// as plain notifications (notifications), so that they cost no round trip at all.

func messageEvent(m *db.Message) events.Event {
	return events.Event{Kind: events.MessageAdded, CompanyID: m.CompanyID,
		ConversationID: m.ConversationID, MessageID: m.HexID()}
}

func statusEvent(ch *db.StatusChange) events.Event {
	return events.Event{Kind: events.MessageStatusChanged, CompanyID: ch.CompanyID,
		ConversationID: ch.ConversationID, MessageID: db.HexID(ch.ID), Status: ch.Status}
}

// conversationEvent announces a change of c; an id of 0 (a conversation the
// statement finds or creates) is filled in by that statement.
func conversationEvent(c *db.Conversation) events.Event {
	return events.Event{Kind: events.ConversationUpdated, CompanyID: c.CompanyID, ConversationID: c.ID}
}

// statusEvents announces each change that is not nil.
func statusEvents(changes ...*db.StatusChange) []events.Event {
	evs := make([]events.Event, 0, len(changes))
	for _, ch := range changes {
		if ch != nil {
			evs = append(evs, statusEvent(ch))
		}
	}
	return evs
}

// publish queues evs in idb's transaction and writes them to the company's event
// log, in one statement.
func publish(ctx context.Context, idb bun.IDB, evs ...events.Event) error {
	ns, err := notifications(evs...)
	if err != nil {
		return err
	}
	if err := db.Notify(ctx, idb, ns...); err != nil {
		return fmt.Errorf("publish %s: %w", evs[0].Kind, err)
	}
	return nil
}

// notifications renders evs for the db statement that stores what they announce,
// each with its event-log row; an event without a conversation id gets the one
// that statement finds or creates.
func notifications(evs ...events.Event) ([]db.Notification, error) {
	payloads, err := events.Encode(evs...)
	if err != nil {
		return nil, err
	}
	out := make([]db.Notification, len(evs))
	for i, ev := range evs {
		out[i] = db.Notification{Channel: events.Channel, Payload: payloads[i]}
		if writeEventLog {
			out[i].Log = &db.LogEntry{CompanyID: ev.CompanyID, Type: logType[ev.Kind],
				ConversationID: ev.ConversationID, MessageID: ev.MessageID}
		}
		if ev.ConversationID == 0 {
			out[i].ConversationKey = events.ConversationField
		}
	}
	return out, nil
}

// writeEventLog is always on; only the write-cost benchmark turns it off
// (export_test.go), to measure what the log costs the writing paths.
var writeEventLog = true

// logType is the event-log type of each kind of event.
var logType = map[events.Kind]string{
	events.MessageAdded:         db.EventMessageAdded,
	events.MessageStatusChanged: db.EventMessageStatusChanged,
	events.ConversationUpdated:  db.EventConversationUpdated,
}

// publishRevoked announces, when idb's transaction commits, that the sessions ids
// ended at at: every instance adds them to its revocation set (sessions.go).
func publishRevoked(ctx context.Context, idb bun.IDB, at time.Time, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Notify(ctx, idb, db.Notification{Channel: events.SessionsChannel, Payload: events.EncodeRevoked(at, ids)})
}
