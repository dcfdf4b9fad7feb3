package resolvers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
)

func TestWebhooks_FailedAttemptsAreRetriedAndLogged(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	rc := newReceiver(t, func(n int, _ received) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL, "MESSAGE_ADDED")
	inbound(t, app, tm.company, "+94717936100", "retry me")
	waitUntil(t, "three attempts", func() bool { return len(attempts(t, app, tm.ownerTok, ep.ID)) == 3 })
	as := attempts(t, app, tm.ownerTok, ep.ID)
	for i, a := range as {
		want := 3 - i
		if a.Attempt != want || a.EventID != as[0].EventID || a.Type != "message.added" {
			t.Errorf("attempt %d: %+v", want, a)
		}
	}
	if as[0].HTTPStatus == nil || *as[0].HTTPStatus != 200 || as[0].Error != nil || as[0].NextAttemptAt != nil {
		t.Errorf("last attempt %+v", as[0])
	}
	for _, a := range as[1:] {
		if a.HTTPStatus == nil || *a.HTTPStatus != 500 || a.Error == nil || a.NextAttemptAt == nil {
			t.Errorf("failed attempt %+v", a)
		}
	}
	got := rc.requests()
	if len(got) != 3 || got[0].ID != got[2].ID || string(got[0].Body) != string(got[2].Body) {
		t.Errorf("the retries are not the same webhook: %+v", got)
	}
}

// One receiver that stalls holds at most its endpoint's slots; another endpoint's
// deliveries go meanwhile.
func TestWebhooks_SlowEndpointDoesNotHoldEveryWorker(t *testing.T) {
	app := hookApp(t, func(c *config.Config) {
		c.Webhooks.Workers, c.Webhooks.PerEndpoint, c.Webhooks.Timeout = 3, 2, 30*time.Second
	})
	tm := newTeam(t, app)
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	slow := newReceiver(t, func(int, received) int {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		return 200
	})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	fast := newReceiver(t, nil)
	createEndpoint(t, app, tm.ownerTok, slow.URL, "MESSAGE_ADDED")
	createEndpoint(t, app, tm.ownerTok, fast.URL, "MESSAGE_ADDED")
	for i := range 4 {
		inbound(t, app, tm.company, "+9471793620"+string(rune('0'+i)), "hi")
	}
	waitUntil(t, "the fast endpoint's four deliveries", func() bool { return len(fast.requests()) == 4 })
	if n := most.Load(); n > 2 {
		t.Errorf("%d deliveries in flight to one endpoint, limit 2", n)
	}
	once.Do(func() { close(release) })
	waitUntil(t, "the slow endpoint's four deliveries", func() bool { return len(slow.requests()) == 4 })
}

func TestWebhooks_ReceiverTimeoutIsAFailure(t *testing.T) {
	app := hookApp(t, func(c *config.Config) { c.Webhooks.Timeout = 300 * time.Millisecond })
	tm := newTeam(t, app)
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ received) int {
		if n == 1 {
			<-release
		}
		return 200
	})
	t.Cleanup(func() { close(release) })
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL, "MESSAGE_ADDED")
	inbound(t, app, tm.company, "+94717936300", "slow")
	waitUntil(t, "a timeout and a success", func() bool { return len(attempts(t, app, tm.ownerTok, ep.ID)) == 2 })
	first := attempts(t, app, tm.ownerTok, ep.ID)[1]
	if first.Error == nil || !strings.Contains(*first.Error, "timed out") || first.HTTPStatus != nil || first.DurationMs > 2000 {
		t.Errorf("timed-out attempt %+v", first)
	}
}

// An endpoint that has failed for 24 hours is disabled, says why, and its pending
// deliveries stop.
func TestWebhooks_EndpointFailingForADayIsDisabled(t *testing.T) {
	app := hookApp(t, func(c *config.Config) {
		c.Webhooks.RetrySchedule = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, time.Second, time.Second}
	})
	tm := newTeam(t, app)
	start := app.Clock.Now()
	// The first attempts (one per event) start the failing streak; the retries,
	// 200 ms later, come a day after.
	rc := newReceiver(t, func(n int, _ received) int {
		if n >= 3 {
			app.Clock.Set(start.Add(25 * time.Hour))
		}
		return 503
	})
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL)
	inbound(t, app, tm.company, "+94717936400", "nobody listens")
	var e db.WebhookEndpoint
	waitUntil(t, "the endpoint disabled", func() bool {
		err := app.DB.NewSelect().Model(&e).Where("id = ?", ep.ID).Scan(t.Context())
		return err == nil && !e.Enabled
	})
	if e.DisabledReason == nil || !strings.Contains(*e.DisabledReason, "503") || e.DisabledAt == nil {
		t.Errorf("disabled endpoint %+v", e)
	}
	// An attempt already on its way when the endpoint was disabled (claimed just
	// before, up to the per-endpoint limit of two) still arrives; none starts after.
	// A claim whose statement began before the endpoint was disabled commits after
	// it: taking the claims' lock waits for it, and claims after it see the
	// endpoint disabled.
	if err := app.DB.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtext(?))", db.WebhookDeliveriesChannel).Exec(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "no attempt in flight", func() bool {
		var inFlight int
		err := app.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ? AND locked_until > now()", ep.ID).
			Scan(t.Context(), &inFlight)
		return err == nil && inFlight == 0
	})
	seen := len(rc.requests())
	time.Sleep(1500 * time.Millisecond)
	if n := len(rc.requests()); n != seen {
		t.Errorf("%d attempts after the endpoint was disabled", n-seen)
	}
	var pending int
	if err := app.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ? AND state = 'PENDING'", ep.ID).
		Scan(t.Context(), &pending); err != nil || pending != 0 {
		t.Errorf("%d deliveries still pending (%v)", pending, err)
	}
}

// Disabled, an endpoint receives nothing; re-enabled, it starts at the newest
// event (what it missed stays readable with events).
func TestWebhooks_ReenabledEndpointStartsAtTheHead(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL, "CONVERSATION_UPDATED")
	const update = `mutation($in: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $in) { ` + endpointFields + ` } }`
	var out struct{ UpdateWebhookEndpoint endpoint }
	gql(t, app, tm.ownerTok, update, map[string]any{"in": map[string]any{"id": ep.ID, "enabled": false}}, &out)
	if out.UpdateWebhookEndpoint.Enabled || out.UpdateWebhookEndpoint.DisabledReason == nil || out.UpdateWebhookEndpoint.DisabledAt == nil {
		t.Errorf("disabled %+v", out.UpdateWebhookEndpoint)
	}
	inbound(t, app, tm.company, "+94717936501", "while disabled")
	waitHeadCovers(t, app, tm.company.ID)
	gql(t, app, tm.ownerTok, update, map[string]any{"in": map[string]any{"id": ep.ID, "enabled": true}}, &out)
	if !out.UpdateWebhookEndpoint.Enabled || out.UpdateWebhookEndpoint.DisabledReason != nil {
		t.Errorf("enabled %+v", out.UpdateWebhookEndpoint)
	}
	inbound(t, app, tm.company, "+94717936502", "after")
	waitUntil(t, "a delivery", func() bool { return len(rc.requests()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	got := rc.requests()
	if len(got) != 1 || !strings.Contains(string(got[0].Body), "+94717936502") {
		t.Errorf("deliveries %d, first %s", len(got), got[0].Body)
	}
}

func TestWebhooks_FinishedDeliveriesArePurgedAfter30Days(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	ep := createEndpoint(t, app, tm.ownerTok, "https://example.com/hook")
	for i, row := range []struct {
		state string
		age   string
	}{{"DELIVERED", "31 days"}, {"FAILED", "31 days"}, {"PENDING", "31 days"}, {"DELIVERED", "29 days"}} {
		if _, err := app.DB.NewRaw(`INSERT INTO webhook_deliveries (endpoint_id, company_id, webhook_id, type, occurred_at, state, created_at, run_at)
			VALUES (?, ?, ?, 'ping', now(), ?, now() - ?::interval, now() + interval '1 hour')`,
			ep.ID, tm.company.ID, fmt.Sprint("old", i), row.state, row.age).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := app.Resolver.PurgeWebhookDeliveries(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want the two finished ones older than 30 days", n, err)
	}
	var left []string
	if err := app.DB.NewRaw("SELECT webhook_id FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id", ep.ID).
		Scan(t.Context(), &left); err != nil || fmt.Sprint(left) != "[old2 old3]" {
		t.Errorf("left %v (%v)", left, err)
	}
}
