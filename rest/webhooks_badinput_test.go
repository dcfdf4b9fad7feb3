package rest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

func TestMessageIn_BadInputIs4xxAndStoresNothing(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	valid := func(change func(url.Values)) string {
		f := inboundForm("SMbad0000000000000000000000000000", "+94717936775", company)
		change(f)
		return f.Encode()
	}
	media := func(f url.Values) {
		f.Set("NumMedia", "2")
		f.Set("MediaUrl0", "https://media.example/0.jpg")
		f.Set("MediaContentType0", "image/jpeg")
		f.Set("MediaUrl1", "https://media.example/1.jpg")
		f.Set("MediaContentType1", "image/jpeg")
	}
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"missing MessageSid", formType, valid(func(f url.Values) { f.Del("MessageSid") }), 400, "MessageSid should not be empty"},
		{"missing From", formType, valid(func(f url.Values) { f.Del("From") }), 400, "From should not be empty"},
		{"missing To", formType, valid(func(f url.Values) { f.Del("To") }), 400, "To should not be empty"},
		{"From not a phone", formType, valid(func(f url.Values) { f.Set("From", "whatsapp:hello") }), 400, "From must be a WhatsApp phone number"},
		{"From national", formType, valid(func(f url.Values) { f.Set("From", "whatsapp:0717936775") }), 400, "From must be a WhatsApp phone number"},
		{"To of no company", formType, valid(func(f url.Values) { f.Set("To", "whatsapp:+10000000000") }), 404, "no company has the WhatsApp number"},
		{"MessageSid with quotes", formType, valid(func(f url.Values) { f.Set("MessageSid", "SM'; DROP TABLE") }), 400, "MessageSid must be"},
		{"MessageSid twice", formType, valid(func(f url.Values) { f.Add("MessageSid", "SMother") }), 400, "MessageSid must be given once"},
		{"NumMedia 2 without MediaUrl1", formType, valid(func(f url.Values) { media(f); f.Del("MediaUrl1") }), 400, "MediaUrl1 should not be empty"},
		{"NumMedia 1 with MediaUrl1", formType, valid(func(f url.Values) { media(f); f.Set("NumMedia", "1") }), 400, "MediaUrl1 does not match NumMedia 1"},
		{"media without NumMedia", formType, valid(func(f url.Values) { media(f); f.Del("NumMedia") }), 400, "MediaUrl0 does not match NumMedia 0"},
		{"odd media index", formType, valid(func(f url.Values) { media(f); f.Set("MediaUrl01", "https://x/y") }), 400, "MediaUrl01 does not match"},
		{"NumMedia not a number", formType, valid(func(f url.Values) { f.Set("NumMedia", "two") }), 400, "NumMedia must be a whole number from 0 to 10"},
		{"NumMedia negative", formType, valid(func(f url.Values) { f.Set("NumMedia", "-1") }), 400, "NumMedia must be a whole number"},
		{"NumMedia over 10", formType, valid(func(f url.Values) { f.Set("NumMedia", "11") }), 400, "NumMedia must be a whole number"},
		{"media URL not http", formType, valid(func(f url.Values) { media(f); f.Set("MediaUrl1", "file:///etc/passwd") }), 400, "MediaUrl1 must be an http or https URL"},
		{"media type not MIME", formType, valid(func(f url.Values) { media(f); f.Set("MediaContentType0", "jpeg") }), 400, "MediaContentType0 must be a MIME type"},
		{"NUL in Body", formType, valid(func(f url.Values) { f.Set("Body", "a\x00b") }), 400, "Body must be UTF-8 text"},
		{"invalid UTF-8 in Body", formType, valid(func(f url.Values) { f.Set("Body", "a\xffb") }), 400, "Body must be UTF-8 text"},
		{"NUL in ProfileName", formType, valid(func(f url.Values) { f.Set("ProfileName", "\x00") }), 400, "ProfileName must be UTF-8 text"},
		{"malformed form", formType, "MessageSid=%zz&From=x", 400, "request body must be form encoded"},
		{"text/plain", "text/plain", valid(func(url.Values) {}), 400, "Content-Type must be application/x-www-form-urlencoded or application/json"},
		{"multipart", "multipart/form-data; boundary=x", valid(func(url.Values) {}), 400, "Content-Type must be"},
		{"no content type", "", valid(func(url.Values) {}), 400, "Content-Type must be"},
		{"malformed JSON", "application/json", `{"MessageSid":`, 400, "request body must be a JSON object"},
		{"JSON array", "application/json", `[]`, 400, "request body must be a JSON object"},
		{"JSON object as MessageSid", "application/json", `{"MessageSid":{"a":1},"From":"whatsapp:+94717936775","To":"x"}`, 400, "MessageSid must be a string"},
		{"huge body", formType, valid(func(f url.Values) { f.Set("Body", strings.Repeat("a", 70<<10)) }), 413, "request body is larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := post(app, "/message/messagein", tc.contentType, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			var e struct {
				StatusCode int    `json:"statusCode"`
				Message    any    `json:"message"`
				Error      string `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.StatusCode != tc.status || e.Error != nestErrorName(tc.status) {
				t.Fatalf("not the NestJS error shape: %s", body)
			}
			if tc.status == 400 {
				if _, ok := e.Message.([]any); !ok {
					t.Errorf("400 message is not a list: %s", body)
				}
			}
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("%s does not say %q", body, tc.want)
			}
		})
	}
	if got := stored(t, app); got != "contacts=0 conversations=0 messages=0 attachments=0" {
		t.Errorf("refused webhooks stored %s", got)
	}
}

// outbound makes a SENT message with a provider sid, as the delivery worker leaves it.
