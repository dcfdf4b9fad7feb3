package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// callback applies a status callback as the business layer does: forward only, or
// held back when no message carries the id yet.
func callback(t *testing.T, bdb *bun.DB, sid, status string, code *string, at time.Time) *db.StatusChange {
	t.Helper()
	var change *db.StatusChange
	err := bdb.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) (err error) {
		if err := db.LockProviderSID(ctx, tx, sid); err != nil {
			return err
		}
		if change, err = db.AdvanceStatusBySID(ctx, tx, sid, status, code, time.Now()); err != nil || change != nil {
			return err
		}
		return db.HoldStatus(ctx, tx, sid, status, code, at)
	})
	if err != nil {
		t.Fatalf("callback %s %s: %v", sid, status, err)
	}
	return change
}

// attach records a send's answer in a transaction of its own.
func attach(t *testing.T, bdb *bun.DB, companyID int64, id uuid.UUID, sid, status string, code *string) *db.StatusChange {
	t.Helper()
	var change *db.StatusChange
	err := bdb.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) (err error) {
		change, err = db.AttachProviderSID(ctx, tx, companyID, id, sid, status, code, time.Now())
		return err
	})
	if err != nil {
		t.Fatalf("attach %s: %v", sid, err)
	}
	return change
}

func statusOf(t *testing.T, bdb *bun.DB, id uuid.UUID) (status string, code *string) {
	t.Helper()
	if err := bdb.NewRaw("SELECT status, error_code FROM messages WHERE id = ?", id).Scan(t.Context(), &status, &code); err != nil {
		t.Fatal(err)
	}
	return status, code
}

// The order is written once, in Go; the SQL that compares statuses is rendered
// from it. A status moves forward only, whichever way it is applied.
func TestAdvanceStatusByID_ForwardOnly(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	code := "30008"
	for _, c := range []struct {
		name  string
		steps []string
		want  string
	}{
		{"in order", []string{db.StatusQueued, db.StatusSent, db.StatusDelivered, db.StatusRead}, db.StatusRead},
		{"late sent", []string{db.StatusDelivered, db.StatusSent}, db.StatusDelivered},
		{"failure before delivered", []string{db.StatusSent, db.StatusFailed}, db.StatusFailed},
		{"failure after delivered", []string{db.StatusDelivered, db.StatusUndelivered}, db.StatusDelivered},
		{"nothing after a failure", []string{db.StatusUndelivered, db.StatusRead, db.StatusFailed}, db.StatusUndelivered},
	} {
		m := testkit.Message(t, bdb, conv, db.DirectionSent, c.name, time.Now())
		for _, st := range c.steps {
			if _, err := db.AdvanceStatusByID(t.Context(), bdb, company.ID, m.ID, st, &code, time.Now()); err != nil {
				t.Fatalf("%s: %s: %v", c.name, st, err)
			}
		}
		if got, _ := statusOf(t, bdb, m.ID); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if _, err := db.AdvanceStatusByID(t.Context(), bdb, company.ID, uuid.New(), "EXPLODED", nil, time.Now()); err == nil {
		t.Error("an unknown status was accepted")
	}
}

// Statuses held back until the send records the provider id are applied by rank,
// whatever order they were stored in: a failure only when nothing at or past
// DELIVERED is among them.
func TestAttachProviderSID_AppliesHeldStatusesByRank(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	code := "63016"
	for i, c := range []struct {
		held       []string
		answer     string
		want       string
		wantCoded  bool
		wantChange bool
	}{
		{[]string{db.StatusFailed, db.StatusRead, db.StatusSent, db.StatusDelivered}, db.StatusQueued, db.StatusRead, false, true},
		{[]string{db.StatusFailed, db.StatusDelivered}, db.StatusQueued, db.StatusDelivered, false, true},
		{[]string{db.StatusUndelivered, db.StatusSent}, db.StatusQueued, db.StatusUndelivered, true, true},
		{[]string{db.StatusSent}, db.StatusSent, db.StatusSent, false, true},
		{[]string{db.StatusRead}, db.StatusFailed, db.StatusRead, false, true},
		{nil, db.StatusFailed, db.StatusFailed, true, true},
	} {
		m := testkit.Message(t, bdb, conv, db.DirectionSent, "held", time.Now())
		sid := "SMheld" + string(rune('a'+i))
		for _, st := range c.held {
			if ch := callback(t, bdb, sid, st, &code, time.Now()); ch != nil {
				t.Fatalf("case %d: a held status moved something: %+v", i, ch)
			}
		}
		ch := attach(t, bdb, company.ID, m.ID, sid, c.answer, &code)
		got, gotCode := statusOf(t, bdb, m.ID)
		if got != c.want || (gotCode != nil) != c.wantCoded {
			t.Errorf("case %d (held %v, answered %s): %s (code %v), want %s", i, c.held, c.answer, got, gotCode, c.want)
		}
		if (ch != nil) != c.wantChange || (ch != nil && ch.Status != c.want) {
			t.Errorf("case %d: change %+v, want one to %s", i, ch, c.want)
		}
	}
	if n := rows(t, bdb, "early_statuses"); n != 0 {
		t.Errorf("%d held statuses left", n)
	}
}

// A callback for an id a message already carries is never held, even when it does
// not move the status; one for an unknown id is held once.
func TestHoldStatus_OnlyForUnknownIDs(t *testing.T) {
	bdb := testkit.DB(t)
	company := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, company.ID, time.Time{})
	m := testkit.Message(t, bdb, conv, db.DirectionSent, "hi", time.Now())
	attach(t, bdb, company.ID, m.ID, "SMknown", db.StatusDelivered, nil)
	if ch := callback(t, bdb, "SMknown", db.StatusSent, nil, time.Now()); ch != nil {
		t.Errorf("a late SENT moved the message: %+v", ch)
	}
	callback(t, bdb, "SMunknown", db.StatusSent, nil, time.Now())
	callback(t, bdb, "SMunknown", db.StatusSent, nil, time.Now())
	if n := rows(t, bdb, "early_statuses"); n != 1 {
		t.Errorf("%d held statuses, want the unknown id's one", n)
	}
}

// Held statuses expire at the cutoff the business layer gives, not before.
func TestExpireHeldStatuses_RemovesOnlyThoseBeforeTheCutoff(t *testing.T) {
	bdb := testkit.DB(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	callback(t, bdb, "SMold", db.StatusSent, nil, t0)
	callback(t, bdb, "SMnew", db.StatusSent, nil, t0.Add(time.Hour))
	for _, c := range []struct {
		cutoff time.Time
		want   int
	}{{t0, 0}, {t0.Add(time.Microsecond), 1}, {t0.Add(time.Hour), 0}, {t0.Add(2 * time.Hour), 1}} {
		n, err := db.ExpireHeldStatuses(t.Context(), bdb, c.cutoff)
		if err != nil || n != c.want {
			t.Errorf("cutoff %v: removed %d, %v; want %d", c.cutoff, n, err, c.want)
		}
	}
}
