package rest_test

import (
	"context"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// legacyTime is JavaScript's toISOString(): UTC, three fractional digits, Z.
var legacyTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// hexID is a legacy message id.
var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// unauthorized is the exact 401 body legacy clients expect.
const unauthorized = `{"statusCode":401,"message":"Unauthorized"}`

// world is two companies, A and B, with an agent and a token each. Tests act as A's
// agent; B's rows are what A must never see or change.
type world struct {
	app            *testkit.App
	a, b           *db.Company
	agentA, agentB *db.User
	tokA, tokB     string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	app := testkit.NewApp(t)
	// A round clock (whole milliseconds) makes the legacy timestamps exact.
	app.Clock.Set(time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC))
	w := &world{app: app, a: testkit.Company(t, app.DB), b: testkit.Company(t, app.DB)}
	w.agentA = testkit.Agent(t, app.DB, w.a.ID)
	w.agentB = testkit.Agent(t, app.DB, w.b.ID)
	w.tokA, w.tokB = app.Token(w.agentA), app.Token(w.agentB)
	return w
}

// now is the app's clock.
func (w *world) now() time.Time { return w.app.Clock.Now() }

// do sends a request as A's agent and checks the answer against the document. The
// token is issued now, so tests may move the clock past a token's lifetime.
func (w *world) do(t testing.TB, method, path string, body any) *testkit.Response {
	t.Helper()
	return call(t, w.app, method, path, w.app.Token(w.agentA), body)
}

// tables are the tables a REST request could write to.
var tables = []string{"companies", "users", "conversations", "messages", "attachments", "deliveries", "templates"}

// rowCounts counts the rows of every table a request could write to, once the app's
// delivery workers have emptied the outbox: they delete its rows as they send,
// whatever the request under test does.
func rowCounts(t testing.TB, app *testkit.App) map[string]int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var queued int
		if err := app.DB.NewRaw("SELECT count(*) FROM deliveries").Scan(context.Background(), &queued); err != nil {
			t.Fatalf("count deliveries: %v", err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still in the delivery outbox", queued)
		}
	}
	out := make(map[string]int, len(tables))
	for _, tbl := range tables {
		var n int
		if err := app.DB.NewRaw("SELECT count(*) FROM "+tbl).Scan(context.Background(), &n); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

// nothingStored fails when a table's row count changed since before.
func nothingStored(t testing.TB, app *testkit.App, before map[string]int) {
	t.Helper()
	if after := rowCounts(t, app); !maps.Equal(before, after) {
		t.Errorf("rows changed: before %v, after %v", before, after)
	}
}

// wantError checks a NestJS error: its status, its error text, and (when msg is not
// empty) its message, which for a 400 is a list that must contain msg in one item.
func wantError(t testing.TB, r *testkit.Response, status int, msg string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.Map(t)
	reason := http.StatusText(status)
	if status == http.StatusRequestEntityTooLarge {
		reason = "Payload Too Large" // NestJS's phrase (RFC 9110), not Go's older one
	}
	if m["statusCode"] != float64(status) || m["error"] != reason {
		t.Errorf("error shape: %s", r.Body)
	}
	if msg == "" {
		return
	}
	if status == http.StatusBadRequest {
		list, _ := m["message"].([]any)
		for _, s := range list {
			if s, _ := s.(string); strings.Contains(s, msg) {
				return
			}
		}
		t.Errorf("message %v has no item containing %q", m["message"], msg)
		return
	}
	if s, _ := m["message"].(string); !strings.Contains(s, msg) {
		t.Errorf("message %q does not contain %q", m["message"], msg)
	}
}

// wantBody checks the exact status and body.
func wantBody(t testing.TB, r *testkit.Response, status int, body string) {
	t.Helper()
	if r.Status != status || strings.TrimSpace(string(r.Body)) != body {
		t.Errorf("got %d %s\nwant %d %s", r.Status, r.Body, status, body)
	}
}

// legacy formats t as the legacy API does.
func legacy(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sharedTemplate2 is template 2 of the v1.2 spec.
const sharedTemplate2 = "Your {{1}} order of {{2}} has shipped and should be delivered on {{3}}. Details : {{4}}"

// sharedTemplate1 is template 1 of the v1.2 spec.
const sharedTemplate1 = "Hi {{1}}! Thanks for contacting Us.  We are happy to create your demo account and will send you login credentials shortly.."

// ownTemplate adds a template owned by a company.
func ownTemplate(t testing.TB, app *testkit.App, companyID int64, content string) *db.Template {
	t.Helper()
	tpl := &db.Template{CompanyID: &companyID, Name: "own", Language: "en", Content: content}
	if _, err := app.DB.NewInsert().Model(tpl).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("template: %v", err)
	}
	return tpl
}

// attachment adds an uploaded (not yet sent) attachment of a company.
func attachment(t testing.TB, app *testkit.App, companyID int64, kind, filename string, size int64) *db.Attachment {
	t.Helper()
	a := &db.Attachment{CompanyID: companyID, Type: kind, Filename: filename, Filesize: size,
		ContentType: "image/jpeg", State: "STORED"}
	if _, err := app.DB.NewInsert().Model(a).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("attachment: %v", err)
	}
	return a
}

// attachTo links an attachment to a message.
func attachTo(t testing.TB, app *testkit.App, a *db.Attachment, m *db.Message) {
	t.Helper()
	id := m.ID
	if _, err := app.DB.NewUpdate().Model(a).Set("message_id = ?", id).Set("ord = 0").WherePK().Exec(context.Background()); err != nil {
		t.Fatalf("attach: %v", err)
	}
}

// messageAt adds a message with a chosen id, so ties on datetime have a known order.
func messageAt(t testing.TB, app *testkit.App, conv *db.Conversation, id uuid.UUID, content *string, at time.Time) *db.Message {
	t.Helper()
	m := &db.Message{ID: id, CompanyID: conv.CompanyID, ConversationID: conv.ID, Direction: db.DirectionReceived,
		SenderID: &conv.UserID, MessageType: db.TypeText, Content: content, Datetime: at.UTC(), Status: db.StatusPending}
	if _, err := app.DB.NewInsert().Model(m).Exec(context.Background()); err != nil {
		t.Fatalf("message: %v", err)
	}
	return m
}

// itoa formats an id for a path.
func itoa(id int64) string { return strconv.FormatInt(id, 10) }
