package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// Two instances dispatch the same log: every event becomes one delivery per
// endpoint, and the receiver gets each once (it answers 2xx at once, so there is
// no retry to count).
func TestWebhooks_TwoInstancesFanOutEachEventOnce(t *testing.T) {
	allow := func(c *config.Config) { c.Webhooks.AllowPrivate = true }
	one := hookApp(t)
	two := testkit.NewAppWith(t, testkit.With{DB: one.DB, Options: []testkit.Option{allow}})
	tm := newTeam(t, one)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, one, tm.ownerTok, rc.URL)
	for i := range 12 {
		app := one
		if i%2 == 1 {
			app = two
		}
		inbound(t, app, tm.company, fmt.Sprintf("+947179366%02d", i%4), fmt.Sprint("message ", i))
	}
	waitHeadCovers(t, one, tm.company.ID)
	var logged int
	if err := one.DB.NewRaw("SELECT count(*) FROM events WHERE company_id = ?", tm.company.ID).Scan(t.Context(), &logged); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a webhook per event", func() bool { return len(rc.requests()) >= logged })
	time.Sleep(500 * time.Millisecond)
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.ID]++
	}
	if len(rc.requests()) != logged || len(seen) != logged {
		t.Errorf("%d events logged, %d webhooks received, %d distinct", logged, len(rc.requests()), len(seen))
	}
	var deliveries int
	if err := one.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?", ep.ID).Scan(t.Context(), &deliveries); err != nil {
		t.Fatal(err)
	}
	if deliveries != logged {
		t.Errorf("%d deliveries queued for %d events", deliveries, logged)
	}
}

// A worker killed mid-delivery (kill -9) leaves its claim: the attempt counted,
// the lease running, no outcome. When the lease ends another worker delivers it
// (at least once).
func TestWebhooks_KilledWorkersDeliveryIsMadeAfterItsLease(t *testing.T) {
	app := hookApp(t)
	tm := newTeam(t, app)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, app, tm.ownerTok, rc.URL)
	var e db.WebhookEndpoint
	if err := app.DB.NewSelect().Model(&e).Where("id = ?", ep.ID).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The dead worker's delivery, of a message that exists (written without an event).
	m := testkit.Message(t, app.DB, testkit.Conversation(t, app.DB, tm.company.ID, time.Now()), "RECEIVED", "hi", time.Now())
	d := &db.WebhookDelivery{EndpointID: e.ID, CompanyID: e.CompanyID, WebhookID: "424242", Type: "message.added",
		ConversationID: &m.ConversationID, MessageID: &m.ID, OccurredAt: time.Now()}
	claimed := time.Now()
	if err := db.InsertClaimedWebhookDelivery(t.Context(), app.DB, d, time.Second); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the redelivery", func() bool { return len(rc.requests()) == 1 })
	if waited := time.Since(claimed); waited < 900*time.Millisecond {
		t.Errorf("delivered %s after the claim, before its lease ended", waited)
	}
	r := rc.requests()[0]
	if p := decodePayload(t, r.Body); r.ID != "424242" || verify(*ep.Secret, r) != nil || p.Data.Message == nil || p.Data.Message.ID != m.HexID() {
		t.Errorf("redelivered %s %s", r.ID, r.Body)
	}
	waitUntil(t, "the attempt logged", func() bool { return len(attempts(t, app, tm.ownerTok, ep.ID)) == 1 })
	if a := attempts(t, app, tm.ownerTok, ep.ID)[0]; a.Attempt != 2 || a.HTTPStatus == nil || *a.HTTPStatus != 204 {
		t.Errorf("logged %+v, want the second attempt, delivered", a)
	}
}
