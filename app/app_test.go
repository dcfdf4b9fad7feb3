package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// mediaProvider serves a small PNG at every path, as the provider serves inbound media.
func mediaProvider(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// waitUntil polls cond until it holds, failing after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusOf(t *testing.T, app *testkit.App, content string) string {
	var s string
	_ = app.DB.NewRaw("SELECT status FROM messages WHERE content = ?", content).Scan(t.Context(), &s)
	return s
}

func attachmentState(t *testing.T, app *testkit.App, companyID int64) string {
	var s string
	_ = app.DB.NewRaw("SELECT state FROM attachments WHERE company_id = ?", companyID).Scan(t.Context(), &s)
	return s
}

// With an hour between polls, only a wake-up can bring the work: the NOTIFY of a
// queued message and of inbound media reaches delivery and the fetcher through the
// bus's LISTEN connection, the only one the instance holds.
func TestApp_BackgroundWorkIsWokenThroughTheBus(t *testing.T) {
	provider := mediaProvider(t)
	app := testkit.NewAppWith(t, testkit.With{PollInterval: time.Hour,
		Options: []testkit.Option{func(c *config.Config) { c.TwilioAPIBase = provider.URL }}})
	company := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, company.ID)
	conv := testkit.Conversation(t, app.DB, company.ID, app.Clock.Now().Add(-time.Hour))

	var listeners int
	if err := app.DB.NewRaw(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(t.Context(), &listeners); err != nil {
		t.Fatal(err)
	}
	if listeners != 1 {
		t.Errorf("%d LISTEN connections, want the bus's only", listeners)
	}

	r := app.Do(http.MethodPost, "/message", app.Token(agent), map[string]any{"to": conv.UserID, "text": "woken"})
	if r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	waitUntil(t, 20*time.Second, "the message is sent", func() bool { return statusOf(t, app, "woken") == db.StatusSent })

	form := url.Values{"MessageSid": {"SMwoken000000000000000000000000001"}, "From": {"whatsapp:+94717936775"},
		"To": {*company.WhatsAppNumber}, "NumMedia": {"1"}, "MediaUrl0": {provider.URL + "/media/1"},
		"MediaContentType0": {"image/png"}}
	if r := app.Do(http.MethodPost, "/message/messagein", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded"); r.Status != http.StatusCreated {
		t.Fatalf("inbound webhook: %d %s", r.Status, r.Body)
	}
	waitUntil(t, 20*time.Second, "the inbound media is fetched", func() bool {
		return attachmentState(t, app, company.ID) == db.AttachmentStored
	})
}

// Work queued without a NOTIFY (as when one is lost while the bus reconnects) is
// found by the poll.
func TestApp_BackgroundWorkIsFoundByPollingWhenNotifyIsMissed(t *testing.T) {
	provider := mediaProvider(t)
	app := testkit.NewAppWith(t, testkit.With{PollInterval: 100 * time.Millisecond,
		Options: []testkit.Option{func(c *config.Config) { c.TwilioAPIBase = provider.URL }}})
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, app.Clock.Now().Add(-time.Hour))

	m := testkit.Message(t, app.DB, conv, db.DirectionSent, "polled", app.Clock.Now())
	if _, err := app.DB.NewRaw("INSERT INTO deliveries (message_id, company_id) VALUES (?, ?)", m.ID, company.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	source := provider.URL + "/media/2"
	att := &db.Attachment{CompanyID: company.ID, Type: db.AttachmentImage, ContentType: "image/png",
		SourceURL: &source, State: db.AttachmentPending}
	if err := db.InsertAttachment(t.Context(), app.DB, att); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the message is sent", func() bool { return statusOf(t, app, "polled") == db.StatusSent })
	waitUntil(t, 20*time.Second, "the media is fetched", func() bool {
		return attachmentState(t, app, company.ID) == db.AttachmentStored
	})
}
