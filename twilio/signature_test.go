package twilio

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// The worked example of Twilio's webhook security documentation, also the fixture of
// twilio-go's request_validator_test.go.
const (
	docToken = "12345"
	docURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docSig   = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
)

func docParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestSign_TwilioDocumentationVector(t *testing.T) {
	if got := Sign(docToken, docURL, docParams()); got != docSig {
		t.Fatalf("Sign = %q, want %q", got, docSig)
	}
	if !ValidSignature(docToken, docURL, docParams(), docSig) {
		t.Fatal("the documentation's signature is refused")
	}
}

// Vectors computed independently with Python's hmac module.
func TestSign_OwnVectors(t *testing.T) {
	cases := []struct {
		name, token, url string
		params           url.Values
		want             string
	}{
		{
			name: "WhatsApp inbound with non-ASCII text", token: "secret-token",
			url: "https://connectme.example/message/messagein",
			params: url.Values{
				"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {"whatsapp:+94717936775"},
				"To": {"whatsapp:+14155238886"}, "Body": {"Hello éè 😀"}, "NumMedia": {"0"}, "ProfileName": {"Maïlle"},
			},
			want: "oWTodfOPEOveYBBmPwqLnYe7qMU=",
		},
		{
			name: "repeated keys contribute every value, sorted", token: docToken,
			url:    "https://connectme.example/message/status?x=1",
			params: url.Values{"Tag": {"c", "a", "b"}, "Z": {""}},
			want:   "JV+HMChTiA80aTfQ6QvMrCCc8Hw=",
		},
		{
			// twilio-go: the same URL with https's default port written out.
			name: "explicit default port", token: docToken, url: "https://mycompany.com:443/myapp.php?foo=1&bar=2",
			params: docParams(), want: "kvajT1Ptam85bY51eRf/AJRuM3w=",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sign(tc.token, tc.url, tc.params); got != tc.want {
				t.Errorf("Sign = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidSignature_AcceptsURLWithOrWithoutPort(t *testing.T) {
	cases := []struct{ url, sig string }{
		{docURL, "kvajT1Ptam85bY51eRf/AJRuM3w="},                     // signed with :443
		{"https://mycompany.com:1234/myapp.php?foo=1&bar=2", docSig}, // signed without the port
		{"http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		{"http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	}
	for _, tc := range cases {
		if !ValidSignature(docToken, tc.url, docParams(), tc.sig) {
			t.Errorf("%s: %s refused", tc.url, tc.sig)
		}
	}
}

func TestValidSignature_RefusesAnyChange(t *testing.T) {
	changed := func(f func(url.Values)) url.Values {
		p := docParams()
		f(p)
		return p
	}
	cases := map[string]struct {
		token, url string
		params     url.Values
		sig        string
	}{
		"empty signature":  {docToken, docURL, docParams(), ""},
		"garbage":          {docToken, docURL, docParams(), "not base64 at all"},
		"other token":      {"54321", docURL, docParams(), docSig},
		"no token":         {"", docURL, docParams(), docSig},
		"other path":       {docToken, "https://mycompany.com/other.php?foo=1&bar=2", docParams(), docSig},
		"other query":      {docToken, "https://mycompany.com/myapp.php?foo=2&bar=2", docParams(), docSig},
		"other host":       {docToken, "https://evil.com/myapp.php?foo=1&bar=2", docParams(), docSig},
		"other scheme":     {docToken, "http://mycompany.com/myapp.php?foo=1&bar=2", docParams(), docSig},
		"changed value":    {docToken, docURL, changed(func(p url.Values) { p.Set("Digits", "1235") }), docSig},
		"added parameter":  {docToken, docURL, changed(func(p url.Values) { p.Set("Body", "x") }), docSig},
		"dropped param":    {docToken, docURL, changed(func(p url.Values) { p.Del("Caller") }), docSig},
		"extra value":      {docToken, docURL, changed(func(p url.Values) { p.Add("To", "+1") }), docSig},
		"lowercase sig":    {docToken, docURL, docParams(), "rsoydt4t1cutdk1pdd93/vvr8b8="},
		"sig with newline": {docToken, docURL, docParams(), docSig + "\n"},
	}
	for name, tc := range cases {
		if ValidSignature(tc.token, tc.url, tc.params, tc.sig) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// twilio-go's JSON fixtures: the URL carries bodySHA256 and only the URL is signed.
func TestValidBodySignature(t *testing.T) {
	body := []byte(`{"property": "value", "boolean": true}`)
	const hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	if !ValidBodySignature(docToken, docURL+"&bodySHA256="+hash, body, "a9nBmqA0ju/hNViExpshrM61xv4=") {
		t.Error("twilio-go vector with other query parameters refused")
	}
	only := "https://mycompany.com/myapp.php?bodySHA256=" + hash
	if !ValidBodySignature(docToken, only, body, "y77kIzt2vzLz71DgmJGsen2scGs=") {
		t.Error("twilio-go vector with bodySHA256 alone refused")
	}
	if ValidBodySignature(docToken, only, append(body, ' '), "y77kIzt2vzLz71DgmJGsen2scGs=") {
		t.Error("a changed body is accepted")
	}
	if ValidBodySignature(docToken, docURL, body, Sign(docToken, docURL, nil)) {
		t.Error("a URL without bodySHA256 is accepted")
	}
	if ValidBodySignature(docToken, only, body, docSig) {
		t.Error("a wrong signature is accepted")
	}
}

func TestVerifier_UsesPublicBaseURLNotHost(t *testing.T) {
	v := Verifier{AuthToken: docToken, PublicBaseURL: "https://connectme.example/"}
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"sent"}}
	req := func(sig string) *http.Request {
		r := httptest.NewRequest("POST", "http://internal:8080/message/status?x=1", bytes.NewBufferString(form.Encode()))
		r.Header.Set(SignatureHeader, sig)
		return r
	}
	if got := v.URL(req("")); got != "https://connectme.example/message/status?x=1" {
		t.Fatalf("URL = %q", got)
	}
	if err := v.VerifyForm(req(Sign(docToken, "https://connectme.example/message/status?x=1", form)), form); err != nil {
		t.Errorf("signed with the public URL: %v", err)
	}
	if err := v.VerifyForm(req(Sign(docToken, "http://internal:8080/message/status?x=1", form)), form); err == nil {
		t.Error("signed with the Host header's URL: accepted")
	}
	if err := v.VerifyForm(req(""), form); err == nil {
		t.Error("unsigned: accepted")
	}
	if err := (Verifier{}).VerifyForm(req(""), form); err != nil {
		t.Errorf("without a token unsigned calls pass: %v", err)
	}
}

func TestUrlVariants(t *testing.T) {
	cases := map[string][]string{
		"https://a.example/p?q=1":        {"https://a.example/p?q=1", "https://a.example:443/p?q=1"},
		"http://a.example:8080/p":        {"http://a.example:8080/p", "http://a.example/p"},
		"http://[::1]:8080/p":            {"http://[::1]:8080/p", "http://[::1]/p"},
		"https://u:p@a.example?x=http:/": {"https://u:p@a.example?x=http:/", "https://u:p@a.example:443?x=http:/"},
		"not a url":                      {"not a url"},
		"ftp://a.example/":               {"ftp://a.example/"},
	}
	for in, want := range cases {
		got := urlVariants(in)
		if len(got) != len(want) {
			t.Errorf("%s: %q, want %q", in, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %q, want %q", in, got, want)
			}
		}
	}
}

// The documentation's example as a request reaching the server: PUBLIC_BASE_URL plus
// the path and query the server sees, and the POST parameters from the body.
func TestVerifier_TwilioDocumentationRequest(t *testing.T) {
	v := Verifier{AuthToken: docToken, PublicBaseURL: "https://mycompany.com"}
	form := docParams()
	r := httptest.NewRequest("POST", "http://10.0.0.7:8080/myapp.php?foo=1&bar=2", bytes.NewBufferString(form.Encode()))
	r.Header.Set(SignatureHeader, docSig)
	if err := v.VerifyForm(r, form); err != nil {
		t.Fatalf("documentation request refused: %v", err)
	}
	form.Set("Digits", "4321")
	if err := v.VerifyForm(r, form); err == nil {
		t.Fatal("changed parameters accepted")
	}
}
