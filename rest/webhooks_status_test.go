package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

func outbound(t *testing.T, app *testkit.App, conv *db.Conversation, sid string) *db.Message {
	t.Helper()
	m := testkit.Message(t, app.DB, conv, db.DirectionSent, "hi", app.Clock.Now())
	if sid != "" {
		if _, err := app.DB.NewUpdate().Model(m).Set("provider_sid = ?", sid).WherePK().Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func statusOf(t *testing.T, app *testkit.App, m *db.Message) (string, *string) {
	t.Helper()
	var row db.Message
	if err := app.DB.NewSelect().Model(&row).Where("id = ?", m.ID).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return row.Status, row.ErrorCode
}

func postStatus(t *testing.T, app *testkit.App, sid, status string, extra ...string) {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	r := postForm(app, "/message/status", form)
	if r.Status != http.StatusCreated || strings.TrimSpace(string(r.Body)) != `{"status":"ok"}` {
		t.Fatalf("status %s: %d %s", status, r.Status, r.Body)
	}
}

func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{append([]string(nil), xs...)}
	}
	var out [][]string
	for i := range xs {
		others := append(append([]string(nil), xs[:i]...), xs[i+1:]...)
		for _, p := range permutations(others) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

func TestStatus_EveryOrderEndsAtTheFurthestState(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	for _, order := range permutations([]string{"queued", "sent", "delivered", "read"}) {
		sid := newSID()
		m := outbound(t, app, conv, sid)
		for _, s := range order {
			postStatus(t, app, sid, s)
		}
		if got, _ := statusOf(t, app, m); got != db.StatusRead {
			t.Errorf("order %v ends at %s, want READ", order, got)
		}
	}
	for _, order := range permutations([]string{"accepted", "sending", "sent", "delivered"}) {
		sid := newSID()
		m := outbound(t, app, conv, sid)
		for _, s := range order {
			postStatus(t, app, sid, s)
		}
		if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
			t.Errorf("order %v ends at %s, want DELIVERED", order, got)
		}
	}
}

func TestStatus_ConcurrentCallbacksEndAtTheFurthestState(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	var msgs []*db.Message
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 5; i++ {
		sid := newSID()
		msgs = append(msgs, outbound(t, app, conv, sid))
		for _, s := range []string{"read", "queued", "delivered", "sent"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"MessageSid": {sid}, "MessageStatus": {s}}
				if status, body, err := post(app, "/message/status", formType, form.Encode()); err != nil || status != 201 {
					errs <- fmt.Sprintf("%s: %d %s %v", s, status, body, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, m := range msgs {
		if got, _ := statusOf(t, app, m); got != db.StatusRead {
			t.Errorf("ends at %s, want READ", got)
		}
	}
}

func TestStatus_LateOrFailedCallbacksNeverMoveBack(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})

	sid := newSID()
	m := outbound(t, app, conv, sid)
	postStatus(t, app, sid, "delivered")
	postStatus(t, app, sid, "sent")
	if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
		t.Errorf("late sent: %s, want DELIVERED", got)
	}
	postStatus(t, app, sid, "failed", "ErrorCode", "30008")
	postStatus(t, app, sid, "undelivered", "ErrorCode", "30003")
	if got, code := statusOf(t, app, m); got != db.StatusDelivered || code != nil {
		t.Errorf("failure after delivered: %s %v, want DELIVERED without error code", got, code)
	}

	sid = newSID()
	m = outbound(t, app, conv, sid)
	postStatus(t, app, sid, "sent")
	postStatus(t, app, sid, "undelivered", "ErrorCode", "63016")
	postStatus(t, app, sid, "delivered")
	if got, code := statusOf(t, app, m); got != db.StatusUndelivered || deref(code) != "63016" {
		t.Errorf("undelivered: %s %s, want UNDELIVERED 63016", got, deref(code))
	}
}

func TestStatus_EarlyCallbackIsAppliedWhenTheSidIsRecorded(t *testing.T) {
	sid := newSID()
	// The provider calls back before its answer to the send call reaches us.
	arrived, release := make(chan struct{}), make(chan struct{})
	app := testkit.NewAppWith(t, testkit.With{Provider: testkit.ProviderFunc(
		func(context.Context, *twilio.Message) (*twilio.Result, error) {
			close(arrived)
			<-release
			return &twilio.Result{SID: sid, Status: "queued"}, nil
		})})
	company := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, company.ID)
	conv := testkit.Conversation(t, app.DB, company.ID, app.Clock.Now().Add(-time.Hour))
	r := app.Do(http.MethodPost, "/message", app.Token(agent), map[string]any{"to": conv.UserID, "text": "early"})
	if r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	<-arrived
	postStatus(t, app, sid, "delivered")
	postStatus(t, app, sid, "sent")
	var m db.Message
	if err := app.DB.NewSelect().Model(&m).Where("content = 'early'").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := statusOf(t, app, &m); got != db.StatusPending {
		t.Fatalf("before the sid is known: %s", got)
	}
	close(release)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, _ := statusOf(t, app, &m)
		if got == db.StatusDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the send's answer: %s, want DELIVERED", got)
		}
	}
}

func TestStatus_PublishesStatusChangedOnlyWhenItMoves(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	ln := listen(t, app)
	postStatus(t, app, sid, "delivered")
	_, payload, err := ln.ReceiveTimeout(t.Context(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := events.Decode(payload)
	if ev.Kind != events.MessageStatusChanged || ev.CompanyID != company.ID || ev.ConversationID != conv.ID ||
		ev.MessageID != m.HexID() || ev.Status != db.StatusDelivered {
		t.Errorf("event %+v", ev)
	}
	postStatus(t, app, sid, "sent")
	if _, payload, err := ln.ReceiveTimeout(t.Context(), 300*time.Millisecond); err == nil {
		t.Errorf("a status that did not move published %s", payload)
	}
}

func TestStatus_BadInputIs400(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	cases := []struct {
		name, body, want string
	}{
		{"unknown status", url.Values{"MessageSid": {sid}, "MessageStatus": {"exploded"}}.Encode(), "MessageStatus must be one of"},
		{"receiving is not a callback status", url.Values{"MessageSid": {sid}, "MessageStatus": {"receiving"}}.Encode(), "MessageStatus must be one of"},
		{"missing status", url.Values{"MessageSid": {sid}}.Encode(), "MessageStatus should not be empty"},
		{"missing sid", url.Values{"MessageStatus": {"read"}}.Encode(), "MessageSid should not be empty"},
		{"status twice", url.Values{"MessageSid": {sid}, "MessageStatus": {"read", "sent"}}.Encode(), "MessageStatus must be given once"},
		{"NUL error code", url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"\x00"}}.Encode(), "ErrorCode must be"},
	}
	for _, tc := range cases {
		status, body, err := post(app, "/message/status", formType, tc.body)
		if err != nil || status != 400 || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), `"error":"Bad Request"`) {
			t.Errorf("%s: %d %s %v", tc.name, status, body, err)
		}
	}
	if got, _ := statusOf(t, app, m); got != db.StatusPending {
		t.Errorf("refused callbacks moved the message to %s", got)
	}
	if n := count(t, app, "SELECT count(*) FROM early_statuses"); n != 0 {
		t.Errorf("refused callbacks kept %d early statuses", n)
	}
	// JSON works too.
	if r := call(t, app, "POST", "/message/status", "", map[string]any{"MessageSid": sid, "MessageStatus": "sent"}); r.Status != 201 {
		t.Errorf("JSON status: %d %s", r.Status, r.Body)
	}
}

// signedApp is a server with a provider token, behind a fixed public URL that differs
// from the httptest address (as behind a proxy).
