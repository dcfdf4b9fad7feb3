package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

// scrape reads /metrics into a map from series (as the text format prints it, e.g.
// `name{a="x",b="y"}`, labels sorted by name) to value.
func scrape(t *testing.T, app *testkit.App, headers ...string) map[string]float64 {
	t.Helper()
	r := app.Do("GET", "/metrics", "", nil, headers...)
	if r.Status != 200 {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// wantAtLeast checks that every series is present with at least its value.
func wantAtLeast(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for series, min := range want {
		v, ok := got[series]
		if !ok {
			t.Errorf("missing series %s", series)
			continue
		}
		if v < min {
			t.Errorf("%s = %v, want at least %v", series, v, min)
		}
	}
}

func TestMetrics_ScrapeAfterTrafficHasEverySeries(t *testing.T) {
	const token, base = "twilio-metrics-test-token", "https://connectme.example"
	app := testkit.NewApp(t, func(c *config.Config) {
		c.TwilioAuthToken = token
		c.PublicBaseURL = base
	})
	pool, err := delivery.New(delivery.Config{DB: app.DB, Provider: delivery.DevProvider{Log: app.Resolver.Log},
		Log: app.Resolver.Log, PollInterval: 100 * time.Millisecond, Metrics: app.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { pool.Run(ctx) })
	t.Cleanup(func() { stop(); wg.Wait() })

	ten := tenantOf(t, app)
	conv := testkit.Conversation(t, app.DB, ten.company.ID, app.Clock.Now().Add(-time.Hour))

	// REST: a list, a path with an id, an unknown path.
	if r := app.Do("GET", "/conversation/conversation-page-list?page=1&limit=10", ten.token, nil); r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := app.Do("GET", "/message/message-page-list/987654321", ten.token, nil); r.Status != 403 {
		t.Fatalf("foreign conversation: %d %s", r.Status, r.Body)
	}
	app.Do("GET", "/no/such/path", "", nil)

	// GraphQL: a query, a refused query, an invalid document, a mutation.
	if g := app.GraphQL(ten.token, `query Me { me { id } }`, nil); len(g.Errors) > 0 {
		t.Fatalf("me: %+v", g.Errors)
	}
	if g := app.GraphQL("", `query NoToken { me { id } }`, nil); g.Code() != "UNAUTHENTICATED" {
		t.Fatalf("no token: %+v", g.Errors)
	}
	if g := app.GraphQL(ten.token, `query Broken { nope }`, nil); len(g.Errors) == 0 {
		t.Fatal("an invalid document was accepted")
	}

	// A subscription, live while the message is sent, so its event counts it.
	ws, err := dialWS(t, app, "graphql-transport-ws", ten.token)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", `subscription OnMessage { messageAdded { id } }`, nil)
	eventually(t, 10*time.Second, "the subscription registers", func() bool { return app.Bus.Subscribers() == 1 })
	res := app.GraphQL(ten.token, `mutation Send($in: SendMessageInput!) { sendMessage(input: $in) { message { id } } }`,
		map[string]any{"in": map[string]any{"to": fmt.Sprint(conv.UserID), "text": "counted"}})
	if len(res.Errors) > 0 {
		t.Fatalf("send: %+v", res.Errors)
	}
	if _, err := ws.next(10 * time.Second); err != nil {
		t.Fatalf("subscription event: %v", err)
	}

	// Webhooks: accepted, duplicate, bad signature, and a refused status callback.
	form := url.Values{"MessageSid": {"SMmetrics00000000000000000000001"}, "From": {"whatsapp:+94717936775"},
		"To": {*ten.company.WhatsAppNumber}, "Body": {"hi"}, "NumMedia": {"0"}}
	sig := twilio.Sign(token, base+"/message/messagein", form)
	for i, wantStatus := range []int{201, 201} {
		if r := postForm(app, "/message/messagein", form, twilio.SignatureHeader, sig); r.Status != wantStatus {
			t.Fatalf("webhook %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := postForm(app, "/message/messagein", form, twilio.SignatureHeader, "bm9wZQ=="); r.Status != 403 {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
	status := url.Values{"MessageSid": {"SMmetrics00000000000000000000002"}, "MessageStatus": {"teleported"}}
	if r := postForm(app, "/message/status", status, twilio.SignatureHeader, twilio.Sign(token, base+"/message/status", status)); r.Status != 400 {
		t.Fatalf("bad status: %d %s", r.Status, r.Body)
	}

	// The sent message goes out through the pool.
	eventually(t, 30*time.Second, "the message is handed to the provider", func() bool {
		return scrape(t, app)[`connectme_delivery_jobs_total{event="sent"}`] >= 1
	})

	got := scrape(t, app)
	wantAtLeast(t, got, map[string]float64{
		`connectme_http_requests_total{method="GET",route="/conversation/conversation-page-list",status="200"}`:        1,
		`connectme_http_requests_total{method="GET",route="/message/message-page-list/{coversation_id}",status="403"}`: 1,
		`connectme_http_requests_total{method="GET",route="unmatched",status="404"}`:                                   1,
		`connectme_http_requests_total{method="POST",route="/message/messagein",status="201"}`:                         2,
		`connectme_http_request_duration_seconds_count{method="GET",route="/conversation/conversation-page-list"}`:     1,
		`connectme_http_requests_in_flight`:  1, // the scrape itself
		`connectme_http_requests_shed_total`: 0,

		`connectme_graphql_operations_total{operation="Me",outcome="ok",type="query"}`:                                 1,
		`connectme_graphql_operations_total{operation="NoToken",outcome="UNAUTHENTICATED",type="query"}`:               1,
		`connectme_graphql_operations_total{operation="Send",outcome="ok",type="mutation"}`:                            1,
		`connectme_graphql_operations_total{operation="OnMessage",outcome="ok",type="subscription"}`:                   1,
		`connectme_graphql_operations_total{operation="anonymous",outcome="GRAPHQL_VALIDATION_FAILED",type="unknown"}`: 1,
		`connectme_graphql_operation_duration_seconds_count{operation="Me",type="query"}`:                              1,

		`connectme_webhooks_received_total{kind="message",outcome="accepted"}`:      1,
		`connectme_webhooks_received_total{kind="message",outcome="duplicate"}`:     1,
		`connectme_webhooks_received_total{kind="message",outcome="bad_signature"}`: 1,
		`connectme_webhooks_received_total{kind="status",outcome="rejected"}`:       1,

		`connectme_delivery_jobs_total{event="queued"}`:  1,
		`connectme_delivery_jobs_total{event="sent"}`:    1,
		`connectme_delivery_jobs_total{event="retried"}`: 0,
		`connectme_delivery_jobs_total{event="failed"}`:  0,
		`connectme_delivery_queue_depth`:                 0,
		`connectme_delivery_queue_due`:                   0,
		`connectme_delivery_queue_oldest_age_seconds`:    0,

		`connectme_websocket_connections`:       1,
		`connectme_websocket_connections_total`: 1,
		`connectme_subscriptions_live`:          1,
		`connectme_events_listener_up`:          1,

		`go_sql_max_open_connections{db_name="connectme"}`: 32,
		`go_sql_open_connections{db_name="connectme"}`:     1,
		`go_sql_wait_count_total{db_name="connectme"}`:     0,
		`go_goroutines`:                 1,
		`process_resident_memory_bytes`: 1,
	})
	for series := range got {
		if strings.Contains(series, "987654321") {
			t.Errorf("a raw path made a series: %s", series)
		}
	}

	// Closing the socket ends the connection and its subscription.
	_ = ws.c.CloseNow()
	eventually(t, 10*time.Second, "the websocket and its subscription are gone", func() bool {
		m := scrape(t, app)
		return m["connectme_websocket_connections"] == 0 && m["connectme_subscriptions_live"] == 0
	})
}

func TestMetrics_TokenProtectsTheEndpoint(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.MetricsToken = "metrics-secret-token" })
	r := app.Do("GET", "/metrics", "", nil)
	if r.Status != 401 || strings.TrimSpace(string(r.Body)) != `{"statusCode":401,"message":"Unauthorized"}` {
		t.Errorf("no token: %d %s", r.Status, r.Body)
	}
	if r := app.Do("GET", "/metrics", "wrong-token", nil); r.Status != 401 {
		t.Errorf("wrong token: %d", r.Status)
	}
	if got := scrape(t, app, "Authorization", "Bearer metrics-secret-token"); len(got) == 0 {
		t.Error("the right token scraped nothing")
	}
}

// postForm posts a form as the provider does.
func postForm(app *testkit.App, path string, form url.Values, headers ...string) *testkit.Response {
	app.T.Helper()
	return app.Do("POST", path, "", form.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// eventually polls cond every 50 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}
