package resolvers_test

import (
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// A status callback's cost: one transaction with the sid's lock, the forward-only
// update and its event (or, for an id not recorded yet, the held row).
func TestReceiveStatus_StatementsPerCallback(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	m := testkit.Message(t, app.DB, conv, db.DirectionSent, "hi", time.Now())
	if err := app.Resolver.RecordSend(t.Context(), db.SentOutcome{CompanyID: company.ID, MessageID: m.ID, SID: "SMcount", Status: db.StatusQueued}, nil); err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	for _, sid := range []string{"SMcount", "SMnotyet"} {
		counter.n.Store(0)
		if err := app.Resolver.ReceiveStatus(t.Context(), "", sid, "delivered", ""); err != nil {
			t.Fatal(err)
		}
		// BEGIN, lock, update, event or held row, COMMIT
		if n := counter.n.Load(); n > 5 {
			t.Errorf("%s: %d statements, want at most 5", sid, n)
		}
	}
	if got := countRows(t, app, "early_statuses"); got != 1 {
		t.Errorf("%d held statuses, want 1 (SMnotyet)", got)
	}
}

// A held-back status whose send never recorded its id is removed once older than
// the delivery retry horizon, never earlier (by the application's clock).
func TestExpireHeldStatuses_AfterTheRetryHorizonNeverEarlier(t *testing.T) {
	app := testkit.NewApp(t)
	// The background's run of the same cleanup at start (by the application's
	// clock, which this test moves) must be over: it would take the rows first.
	waitUntil(t, "the periodic expiry's first run", func() bool {
		var done int
		err := app.DB.NewRaw(`SELECT count(*) FROM periodic_tasks WHERE name = 'expire_held_statuses'
			AND locked_until IS NULL AND run_at > now()`).Scan(t.Context(), &done)
		return err == nil && done == 1
	})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	app.Clock.Set(t0)
	if err := app.Resolver.ReceiveStatus(t.Context(), "", "SMlost", "sent", ""); err != nil {
		t.Fatal(err)
	}
	app.Clock.Set(t0.Add(time.Hour))
	if err := app.Resolver.ReceiveStatus(t.Context(), "", "SMlater", "delivered", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{t0.Add(resolvers.HeldStatusLifetime - time.Second), 0},
		{t0.Add(resolvers.HeldStatusLifetime), 0},
		{t0.Add(resolvers.HeldStatusLifetime + time.Second), 1},
		{t0.Add(resolvers.HeldStatusLifetime + 30*time.Minute), 0},
		{t0.Add(resolvers.HeldStatusLifetime + time.Hour + time.Second), 1},
	} {
		app.Clock.Set(c.at)
		n, err := app.Resolver.ExpireHeldStatuses(t.Context())
		if err != nil || n != c.want {
			t.Errorf("at t0+%v: expired %d, %v; want %d", c.at.Sub(t0), n, err, c.want)
		}
	}
	if got := countRows(t, app, "early_statuses"); got != 0 {
		t.Errorf("%d held statuses left", got)
	}
	if resolvers.HeldStatusLifetime < 24*time.Hour {
		t.Errorf("held statuses expire after %v, before the 24 h delivery retry horizon", resolvers.HeldStatusLifetime)
	}
}
