package resolvers_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// BenchmarkWebhookDelivery measures deliveries per second to one local receiver
// that answers 204 at once: claim, payload (a message and its conversation read
// from the database), signature, POST, record. Run with -benchtime=2000x or so.
func BenchmarkWebhookDelivery(b *testing.B) {
	app := testkit.NewApp(b, func(c *config.Config) {
		c.Webhooks.AllowPrivate, c.Webhooks.Workers, c.Webhooks.PerEndpoint = true, 8, 8
	})
	company := testkit.Company(b, app.DB)
	owner := testkit.Agent(b, app.DB, company.ID)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	ctx := auth.WithPrincipal(b.Context(), &auth.Principal{UserID: owner.ID, CompanyID: company.ID, Role: db.RoleOwner})
	ep, err := app.Resolver.CreateWebhookEndpoint(ctx, resolvers.WebhookEndpointInput{URL: srv.URL, EventTypes: []string{db.EventMessageAdded}})
	if err != nil {
		b.Fatal(err)
	}
	m := testkit.Message(b, app.DB, testkit.Conversation(b, app.DB, company.ID, time.Now()), "RECEIVED", "benchmark", time.Now())
	b.ResetTimer()
	for start := 0; start < b.N; start += 1000 {
		var ds []*db.WebhookDelivery
		for i := start; i < min(b.N, start+1000); i++ {
			ds = append(ds, &db.WebhookDelivery{EndpointID: ep.ID, CompanyID: company.ID, WebhookID: strconv.Itoa(i),
				Type: "message.added", ConversationID: &m.ConversationID, MessageID: &m.ID, OccurredAt: time.Now()})
		}
		if err := db.InsertWebhookDeliveries(b.Context(), app.DB, ds); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Minute); got.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", got.Load(), b.N)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
