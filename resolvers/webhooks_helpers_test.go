package resolvers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// hookApp is a test app whose webhooks may reach the test's receivers (loopback)
// and retry after a few milliseconds.
func hookApp(t *testing.T, opts ...testkit.Option) *testkit.App {
	t.Helper()
	base := func(c *config.Config) {
		c.Webhooks.AllowPrivate = true
		c.Webhooks.RetrySchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	}
	return testkit.NewApp(t, append([]testkit.Option{base}, opts...)...)
}

// received is one request a receiver got.
type received struct {
	ID, Timestamp, Signature string
	Body                     []byte
}

// receiver is a webhook receiver; answer decides each answer (nil: 204).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) int
}

func newReceiver(t *testing.T, answer func(n int, r received) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
			Signature: req.Header.Get("webhook-signature"), Body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusNoContent
		if rc.answer != nil {
			status = rc.answer(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a webhook as the Standard Webhooks specification says a receiver
// does, written from the specification alone: the signed content is
// "<webhook-id>.<webhook-timestamp>.<body>", the key the base64 after "whsec_",
// the header a space-separated list of "v1,<base64 HMAC-SHA256>", and a timestamp
// more than five minutes off is refused.
func verify(secret string, r received) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q", r.Timestamp)
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d off by %s", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.ID + "." + r.Timestamp + "." + string(r.Body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(r.Signature) {
		version, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid v1 signature in %q", r.Signature)
}

// waitUntil polls cond until it holds, or fails the test after 15 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type endpoint struct {
	ID             string
	URL            string
	EventTypes     []string
	Enabled        bool
	DisabledReason *string
	DisabledAt     *time.Time
	Secret         *string
}

const endpointFields = `id url eventTypes enabled disabledReason disabledAt secret`

func createEndpoint(t *testing.T, app *testkit.App, tok, url string, types ...string) endpoint {
	t.Helper()
	if len(types) == 0 {
		types = []string{"MESSAGE_ADDED", "MESSAGE_STATUS_CHANGED", "CONVERSATION_UPDATED"}
	}
	var out struct{ CreateWebhookEndpoint endpoint }
	gql(t, app, tok, `mutation($in: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $in) { `+endpointFields+` } }`,
		map[string]any{"in": map[string]any{"url": url, "eventTypes": types}}, &out)
	return out.CreateWebhookEndpoint
}

type attempt struct {
	EventID       string
	Type          string
	Attempt       int
	HTTPStatus    *int
	DurationMs    int
	Error         *string
	ResponseBody  *string
	NextAttemptAt *time.Time
}

// attempts reads an endpoint's delivery log, newest first.
func attempts(t *testing.T, app *testkit.App, tok, id string) []attempt {
	t.Helper()
	var out struct {
		WebhookDeliveries struct{ Edges []struct{ Node attempt } }
	}
	gql(t, app, tok, `query($id: ID!) { webhookDeliveries(endpointId: $id, first: 200) { edges { node {
		eventId type attempt httpStatus durationMs error responseBody nextAttemptAt } } } }`, map[string]any{"id": id}, &out)
	as := make([]attempt, len(out.WebhookDeliveries.Edges))
	for i, e := range out.WebhookDeliveries.Edges {
		as[i] = e.Node
	}
	return as
}

// inbound makes a customer write to the company: a MESSAGE_ADDED and a
// CONVERSATION_UPDATED event.
func inbound(t *testing.T, app *testkit.App, c *db.Company, from, body string) *db.Message {
	t.Helper()
	m, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: "SM" + strconv.FormatInt(time.Now().UnixNano(), 36),
		From: "whatsapp:" + from, To: *c.WhatsAppNumber, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// payload decodes a webhook's body.
type payload struct {
	Type      string
	Timestamp string
	Data      struct {
		Message *struct {
			ID, ConversationID, Direction, Type, Status string
			Content                                     *string
			Datetime                                    time.Time
			Attachments                                 []json.RawMessage
		}
		Conversation *struct {
			ID          string
			Status      string
			AssigneeID  *string
			Labels      []struct{ ID, Name, Color string }
			UnreadCount int
			Contact     struct {
				ID          string
				Phone       *string
				DisplayName string
			}
		}
	}
}

func decodePayload(t *testing.T, b []byte) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return p
}

// waitHeadCovers waits until the company's newest event is final (every transaction
// that could still log before it has ended: on a shared test cluster another
// database's transactions count), so eventsHead covers it.
func waitHeadCovers(t *testing.T, app *testkit.App, companyID int64) {
	t.Helper()
	var newest db.Position
	if err := app.DB.NewRaw("SELECT xid, id FROM events WHERE company_id = ? ORDER BY xid DESC, id DESC LIMIT 1", companyID).
		Scan(t.Context(), &newest.XID, &newest.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the newest event to be final", func() bool {
		head, err := db.EventsHead(t.Context(), app.DB, companyID)
		return err == nil && !head.Less(newest)
	})
}
