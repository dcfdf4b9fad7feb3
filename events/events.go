// Package events carries what happened (a message added, a status changed, a
// conversation updated) from the instance where it happened to the subscribers on
// every instance. Events are published with pg_notify inside the transaction that
// made the change, so PostgreSQL delivers them on commit and never for a rollback;
// they carry ids, not rows, and each instance loads what its subscribers need.
//
// events.go holds the events and their publishing; bus.go the Bus, which holds the
// instance's one LISTEN connection and fans events out to the subscribers of each
// company (Attach); wake.go lets that same connection wake background workers on
// their own NOTIFY channels (Wake, used by package jobs).
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/uptrace/bun"
)

// Channel is the PostgreSQL NOTIFY channel of CONNECTME's events.
const Channel = "connectme_events"

// Kind says what happened.
type Kind string

// The kinds of event.
const (
	MessageAdded         Kind = "message_added"
	MessageStatusChanged Kind = "message_status_changed"
	ConversationUpdated  Kind = "conversation_updated"
)

// Event is one thing that happened in one company. It is small on purpose: NOTIFY
// payloads are limited to 8000 bytes.
type Event struct {
	Kind           Kind   `json:"k"`
	CompanyID      int64  `json:"c"`
	ConversationID int64  `json:"v,omitempty"`
	MessageID      string `json:"m,omitempty"`
	Status         string `json:"s,omitempty"`
	// At is when the event was published (Unix nanoseconds): two changes of one
	// conversation are two distinct events.
	At int64 `json:"t,omitempty"`
}

// Publish queues evs for delivery, in order, when idb's transaction commits (or at
// once when idb is not a transaction). However many there are, it is one statement:
// a round trip per event was a measurable share of a webhook's cost.
func Publish(ctx context.Context, idb bun.IDB, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	payloads, err := Encode(evs...)
	if err != nil {
		return err
	}
	ns := make([]db.Notification, len(payloads))
	for i, p := range payloads {
		ns[i] = db.Notification{Channel: Channel, Payload: p}
	}
	if err := db.Notify(ctx, idb, ns...); err != nil {
		return fmt.Errorf("publish %s: %w", evs[0].Kind, err)
	}
	return nil
}

// ConversationField is the payload's key of Event.ConversationID. A statement that
// finds or creates the conversation it announces writes the id there itself (an
// Event whose ConversationID is 0 leaves the key out).
const ConversationField = "v"

// Encode renders evs as NOTIFY payloads for Channel, stamping each with the time
// (distinct per event) unless At is set. Publish sends them; a statement that also
// stores what they announce can send them itself, costing no round trip of its own.
func Encode(evs ...Event) ([]string, error) {
	out := make([]string, len(evs))
	now := time.Now().UnixNano()
	for i, ev := range evs {
		if ev.At == 0 {
			ev.At = now + int64(i)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}

// Decode parses a NOTIFY payload.
func Decode(payload string) (Event, error) {
	var ev Event
	err := json.Unmarshal([]byte(payload), &ev)
	return ev, err
}
