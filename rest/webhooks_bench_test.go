package rest_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// BenchmarkInboundWebhook measures inbound webhooks per second end to end: HTTP
// through the router, decoding, validation and the storing transaction in
// PostgreSQL. Messages come from 200 phone numbers, so most find their contact and
// conversation and some create them. Run with: go test -run '^$' -bench InboundWebhook ./rest/
func BenchmarkInboundWebhook(b *testing.B) {
	app := testkit.NewApp(b)
	company := testkit.Company(b, app.DB)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			form := inboundForm(fmt.Sprintf("SMbench%026d", i), fmt.Sprintf("+9477%07d", i%200), company)
			status, body, err := post(app, "/message/messagein", formType, form.Encode())
			if err != nil || status != http.StatusCreated {
				b.Errorf("webhook %d: %d %s %v", i, status, body, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
}
