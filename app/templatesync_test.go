package app_test

import (
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

// TestApp_TemplateSyncRunsOnOneInstanceAtATime: with the Twilio credentials set,
// two instances on one database sync the templates every TEMPLATE_SYNC_INTERVAL,
// never both at once, and the templates arrive.
func TestApp_TemplateSyncRunsOnOneInstanceAtATime(t *testing.T) {
	f := testkit.NewContentAPI(t)
	f.PageSize, f.Delay = 1, 150*time.Millisecond // a sync reads 3 pages: ~0.45 s
	f.Set(testkit.Content("HXa", "a", "A {{1}}", "approved", "x"),
		testkit.Content("HXb", "b", "B", "pending"),
		testkit.Content("HXc", "c", "C", "rejected"))
	bdb := testkit.DB(t)
	opts := []testkit.Option{testkit.WithContentAPI(f), func(c *config.Config) { c.TemplateSyncInterval = time.Second }}
	testkit.NewAppWith(t, testkit.With{DB: bdb, Options: opts, PollInterval: 50 * time.Millisecond})
	testkit.NewAppWith(t, testkit.With{DB: bdb, Options: opts, PollInterval: 50 * time.Millisecond})
	waitUntil(t, 20*time.Second, "three syncs ran", func() bool { return f.Requests.Load() >= 9 })
	if m := f.MaxInFlight.Load(); m != 1 {
		t.Errorf("%d listings read at once, want 1: the sync ran on both instances together", m)
	}
	var n int
	if err := bdb.NewRaw(`SELECT count(*) FROM templates WHERE synced AND company_id IS NULL AND deleted_at IS NULL`).
		Scan(t.Context(), &n); err != nil || n != 3 {
		t.Errorf("%d synced templates (%v), want 3", n, err)
	}
}
