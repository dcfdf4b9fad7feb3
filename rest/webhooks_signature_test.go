package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

const (
	signToken  = "twilio-test-auth-token"
	publicBase = "https://connectme.example"
)

func signedApp(t *testing.T) *testkit.App {
	return testkit.NewApp(t, func(c *config.Config) {
		c.TwilioAuthToken = signToken
		c.PublicBaseURL = publicBase
	})
}

func TestWebhooks_SignatureRequiredWithAToken(t *testing.T) {
	app := signedApp(t)
	company := testkit.Company(t, app.DB)
	form := inboundForm(newSID(), "+94717936775", company)
	good := twilio.Sign(signToken, publicBase+"/message/messagein", form)
	cases := []struct {
		name, path, sig string
		form            url.Values
	}{
		{"unsigned", "/message/messagein", "", form},
		{"garbage", "/message/messagein", "bm9wZQ==", form},
		{"other token", "/message/messagein", twilio.Sign("other-token", publicBase+"/message/messagein", form), form},
		{"signed for the Host URL", "/message/messagein", twilio.Sign(signToken, app.Server.URL+"/message/messagein", form), form},
		{"signed for another path", "/message/messagein", twilio.Sign(signToken, publicBase+"/message/status", form), form},
		{"extra query not signed", "/message/messagein?x=1", good, form},
		{"body changed after signing", "/message/messagein", good, func() url.Values {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("Body", "tampered")
			return f
		}()},
	}
	for _, tc := range cases {
		status, body, err := post(app, tc.path, formType, tc.form.Encode(), "X-Twilio-Signature", tc.sig)
		if err != nil || status != http.StatusForbidden ||
			strings.TrimSpace(string(body)) != `{"statusCode":403,"message":"invalid or missing X-Twilio-Signature","error":"Forbidden"}` {
			t.Errorf("%s: %d %s %v", tc.name, status, body, err)
		}
	}
	if got := stored(t, app); got != "contacts=0 conversations=0 messages=0 attachments=0" {
		t.Fatalf("refused calls stored %s", got)
	}
	// Signed correctly, with a query string Twilio was configured with.
	q := "/message/messagein?source=twilio&v=2"
	if status, body, _ := post(app, q, formType, form.Encode(), "X-Twilio-Signature", twilio.Sign(signToken, publicBase+q, form)); status != 201 {
		t.Fatalf("signed: %d %s", status, body)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=1 attachments=0" {
		t.Errorf("signed call stored %s", got)
	}

	// The status webhook is guarded too.
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	st := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}}
	if status, body, _ := post(app, "/message/status", formType, st.Encode()); status != 403 {
		t.Errorf("unsigned status: %d %s", status, body)
	}
	if got, _ := statusOf(t, app, m); got != db.StatusPending {
		t.Errorf("unsigned status applied: %s", got)
	}
	if status, body, _ := post(app, "/message/status", formType, st.Encode(), "X-Twilio-Signature", twilio.Sign(signToken, publicBase+"/message/status", st)); status != 201 {
		t.Errorf("signed status: %d %s", status, body)
	}
	if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
		t.Errorf("signed status not applied: %s", got)
	}
}

func TestWebhooks_SignedJSONCarriesTheBodyHash(t *testing.T) {
	app := signedApp(t)
	company := testkit.Company(t, app.DB)
	body, _ := json.Marshal(map[string]string{
		"MessageSid": newSID(), "From": "whatsapp:+94717936775", "To": *company.WhatsAppNumber, "Body": "json",
	})
	path := "/message/messagein?bodySHA256=" + sha256Hex(body)
	sig := twilio.Sign(signToken, publicBase+path, nil)
	cases := []struct {
		name, path, body, sig string
	}{
		{"unsigned", path, string(body), ""},
		{"body changed", path, string(bytes.Replace(body, []byte(`"json"`), []byte(`"JSON"`), 1)), sig},
		{"no body hash", "/message/messagein", string(body), twilio.Sign(signToken, publicBase+"/message/messagein", nil)},
	}
	for _, tc := range cases {
		if status, resp, _ := post(app, tc.path, "application/json", tc.body, "X-Twilio-Signature", tc.sig); status != 403 {
			t.Errorf("%s: %d %s", tc.name, status, resp)
		}
	}
	if status, resp, _ := post(app, path, "application/json", string(body), "X-Twilio-Signature", sig); status != 201 {
		t.Fatalf("signed JSON: %d %s", status, resp)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=1 attachments=0" {
		t.Errorf("stored %s", got)
	}
}

func TestWebhooks_UnsignedCallsAcceptedWithoutAToken(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	r := postForm(app, "/message/messagein", inboundForm(newSID(), "+94717936775", company), "X-Twilio-Signature", "anything")
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// nestErrorName is the "error" field NestJS writes for a status (413 differs from
// Go's status text).
func nestErrorName(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "Payload Too Large"
	}
	return http.StatusText(status)
}

// A status callback's ?mid= gives an unsent message the callback's sid (the send's
// answer was lost). Signed, that is the provider speaking; unsigned (no auth token,
// development), anyone could name another company's message and stop its send, so
// the mid is ignored there.
func TestWebhooks_StatusCallbackMidTrustedOnlyWhenSigned(t *testing.T) {
	for _, signed := range []bool{false, true} {
		var app *testkit.App
		if signed {
			app = signedApp(t)
		} else {
			app = testkit.NewApp(t)
		}
		company := testkit.Company(t, app.DB)
		conv := testkit.Conversation(t, app.DB, company.ID, app.Clock.Now())
		m := outbound(t, app, conv, "")
		sid := newSID()
		form := url.Values{"MessageSid": {sid}, "MessageStatus": {"sent"}}
		path := "/message/status?mid=" + m.HexID()
		headers := []string{}
		if signed {
			headers = append(headers, "X-Twilio-Signature", twilio.Sign(signToken, publicBase+path, form))
		}
		status, body, err := post(app, path, formType, form.Encode(), headers...)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("signed=%v: %d %s %v", signed, status, body, err)
		}
		var row db.Message
		if err := app.DB.NewSelect().Model(&row).Where("id = ?", m.ID).Scan(t.Context()); err != nil {
			t.Fatal(err)
		}
		switch {
		case signed && (row.ProviderSID == nil || *row.ProviderSID != sid):
			t.Errorf("signed callback: sid %v, want %s adopted", row.ProviderSID, sid)
		case !signed && row.ProviderSID != nil:
			t.Errorf("unsigned callback named a message by mid and gave it sid %s", *row.ProviderSID)
		}
	}
}
