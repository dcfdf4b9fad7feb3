package resolvers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// The company event log (CONTRACT §7): every event is a row written by the
// statement that publishes it (publish.go), read back in log order by the events
// query and subscription (eventsub.go). A cursor is a position in the log,
// db.Position, base64url-encoded; it is the same on every instance and stable.

// MaxEventsPage is the most events one page of the events query holds.
const MaxEventsPage = 500

// DefaultEventsPage is the events query's page size when first is not given.
const DefaultEventsPage = 100

const eventCursorPrefix = "ev1:"

// EventCursor encodes a position of the event log for clients.
func EventCursor(p db.Position) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d:%d", eventCursorPrefix, p.XID, p.ID))
}

var errBadEventCursor = apperr.Invalidf("invalid cursor: use a cursor from an event, from eventsHead or from pageInfo")

// ParseEventCursor decodes a client's cursor; a malformed one is BAD_USER_INPUT.
func ParseEventCursor(s string) (db.Position, error) {
	if len(s) > 128 {
		return db.Position{}, errBadEventCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return db.Position{}, errBadEventCursor
	}
	rest, ok := strings.CutPrefix(string(b), eventCursorPrefix)
	xs, is, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return db.Position{}, errBadEventCursor
	}
	x, err1 := strconv.ParseInt(xs, 10, 64)
	i, err2 := strconv.ParseInt(is, 10, 64)
	if err1 != nil || err2 != nil || x < 0 || i < 0 {
		return db.Position{}, errBadEventCursor
	}
	return db.Position{XID: x, ID: i}, nil
}

// errCursorExpired is the answer for a cursor behind events the retention removed.
var errCursorExpired = apperr.New(apperr.CursorExpired,
	"this cursor is older than the event log keeps: refetch your lists and start again from eventsHead")

// eventsAfter reads the company's final events after p (up to limit), and, when
// check is set, refuses a p behind events the retention has removed. The horizon
// is read after the events: a purge that committed in between is seen, so no
// removed event is silently skipped.
func (r *Resolver) eventsAfter(ctx context.Context, companyID int64, p db.Position, limit int, check bool) ([]*db.Event, bool, error) {
	evs, pending, err := db.EventsAfter(ctx, r.DB, companyID, p, limit)
	if err != nil {
		return nil, false, err
	}
	if check {
		h, err := db.EventHorizon(ctx, r.DB, companyID)
		if err != nil {
			return nil, false, err
		}
		if p.Less(h) {
			return nil, false, errCursorExpired
		}
	}
	return evs, pending, nil
}

// EventsPage is a page of the event log, oldest first.
type EventsPage struct {
	Events []*db.Event
	// HasNext is true when more final events follow the page.
	HasNext bool
}

// Events returns the caller's company's events after the cursor after (from the
// oldest kept when nil), first at most (DefaultEventsPage when nil).
func (r *Resolver) Events(ctx context.Context, after *string, first *int) (*EventsPage, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	n := DefaultEventsPage
	if first != nil {
		n = *first
	}
	if n < 1 || n > MaxEventsPage {
		return nil, apperr.Invalidf("first must be between 1 and %d", MaxEventsPage)
	}
	var pos db.Position
	if after != nil {
		if pos, err = ParseEventCursor(*after); err != nil {
			return nil, err
		}
	}
	// Without a cursor the page starts at the oldest event kept.
	evs, _, err := r.eventsAfter(ctx, p.CompanyID, pos, n+1, after != nil)
	if err != nil {
		return nil, err
	}
	pg := &EventsPage{Events: evs}
	if len(evs) > n {
		pg.Events, pg.HasNext = evs[:n], true
	}
	return pg, nil
}

// EventsHead returns the cursor of the caller's company's newest final event:
// every event after it is yet to come.
func (r *Resolver) EventsHead(ctx context.Context) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	pos, err := db.EventsHead(ctx, r.DB, p.CompanyID)
	if err != nil {
		return "", err
	}
	return EventCursor(pos), nil
}

// DefaultEventRetention is how long the event log keeps events by default
// (EVENT_RETENTION).
const DefaultEventRetention = 7 * 24 * time.Hour

// eventPurgeBatch is how many events one statement of PurgeEvents removes: short
// transactions, so the removal holds nothing up.
const eventPurgeBatch = 5000

// PurgeEvents removes the events older than the retention, in batches, and
// returns how many it removed. A cursor behind them is CURSOR_EXPIRED from then on.
func (r *Resolver) PurgeEvents(ctx context.Context) (int, error) {
	retention := r.EventRetention
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	cutoff := r.now().Add(-retention)
	total := 0
	for {
		n, err := db.PurgeEvents(ctx, r.DB, cutoff, eventPurgeBatch)
		total += n
		if err != nil || n < eventPurgeBatch {
			return total, err
		}
	}
}
