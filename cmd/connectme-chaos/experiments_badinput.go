package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/connectme/connectme/twilio"
)

// badCase is one malformed request; every one deserves a 4xx.
type badCase struct {
	name   string
	method string
	path   string
	ctype  string
	body   string
	hdr    http.Header
	// form, when set, is posted as the body, signed as Twilio signs (sign) or not.
	form url.Values
	sign bool
}

// badCases builds the table against the tenant's company and first contact. A body
// without Content-Type is not among them: the server reads it as JSON on purpose,
// for legacy clients.
func badCases(t *tenant) []badCase {
	to := t.contacts[0].id
	from, us := "whatsapp:"+t.contacts[0].phone, "whatsapp:"+t.number
	inbound := func(mod func(url.Values)) url.Values {
		v := url.Values{"MessageSid": {"SMbadinput0001"}, "From": {from}, "To": {us}, "Body": {"hi"}, "NumMedia": {"0"}}
		mod(v)
		return v
	}
	status := func(mod func(url.Values)) url.Values {
		v := url.Values{"MessageSid": {"SMbadinput0002"}, "MessageStatus": {"delivered"}}
		mod(v)
		return v
	}
	js := "application/json"
	return []badCase{
		{name: "login bad JSON", method: "POST", path: "/auth/login", ctype: js, body: `{"email":`},
		{name: "login wrong types", method: "POST", path: "/auth/login", ctype: js, body: `{"email":5,"password":true}`},
		{name: "signup invalid UTF-8", method: "POST", path: "/auth/signup", ctype: js,
			body: "{\"firstName\":\"\xff\xfe\",\"lastName\":\"x\",\"phone\":\"+94770000099\",\"email\":\"utf8@chaos.local\",\"password\":\"chaos-password-1\",\"companyName\":\"u\"}"},
		{name: "signup duplicate keys", method: "POST", path: "/auth/signup", ctype: js,
			body: `{"firstName":"a","firstName":"b","lastName":"x","phone":"+94770000098","email":"dup@chaos.local","password":"chaos-password-1","companyName":"d"}`},
		{name: "send text/plain", method: "POST", path: "/message", ctype: "text/plain", body: fmt.Sprintf(`{"to":%d,"text":"x"}`, to)},
		{name: "send array body", method: "POST", path: "/message", ctype: js, body: `[]`},
		{name: "send to a string", method: "POST", path: "/message", ctype: js, body: `{"to":"abc","text":"x"}`},
		{name: "send to a fraction", method: "POST", path: "/message", ctype: js, body: `{"to":1.5,"text":"x"}`},
		{name: "send to 1e400", method: "POST", path: "/message", ctype: js, body: `{"to":1e400,"text":"x"}`},
		{name: "send text a number", method: "POST", path: "/message", ctype: js, body: fmt.Sprintf(`{"to":%d,"text":5}`, to)},
		{name: "send text with NUL", method: "POST", path: "/message", ctype: js, body: fmt.Sprintf(`{"to":%d,"text":"a\u0000b"}`, to)},
		{name: "send invalid UTF-8", method: "POST", path: "/message", ctype: js, body: fmt.Sprintf("{\"to\":%d,\"text\":\"\xff\xfe\"}", to)},
		{name: "send text 200k chars", method: "POST", path: "/message", ctype: js, body: fmt.Sprintf(`{"to":%d,"text":"%s"}`, to, strings.Repeat("a", 200_000))},
		{name: "send 5 MB body", method: "POST", path: "/message", ctype: js, body: fmt.Sprintf(`{"to":%d,"text":"%s"}`, to, strings.Repeat("a", 5<<20))},
		{name: "send nested 100k deep", method: "POST", path: "/message", ctype: js, body: strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)},
		{name: "send unknown contact", method: "POST", path: "/message", ctype: js, body: `{"to":999999999,"text":"x"}`},
		{name: "new-chat bad phone", method: "POST", path: "/message/new-chat", ctype: js, body: `{"phone":"not a phone"}`},
		{name: "page list id not a number", method: "GET", path: "/message/message-page-list/abc"},
		{name: "page list negative page", method: "GET", path: "/message/message-page-list/1?page=-1&limit=5"},
		{name: "page list id overflow", method: "GET", path: "/message/message-page-list/99999999999999999999999"},
		{name: "contact search invalid UTF-8", method: "GET", path: "/contact/search/%FF%FE"},
		{name: "forged bearer token", method: "GET", path: "/template", hdr: http.Header{"Authorization": {"Bearer eyJhbGciOiJub25lIn0.e30."}}},
		{name: "graphql bad JSON", method: "POST", path: "/graphql", ctype: js, body: `{"query":`},
		{name: "graphql query a number", method: "POST", path: "/graphql", ctype: js, body: `{"query":5}`},
		{name: "messagein unsigned", method: "POST", path: "/message/messagein", form: inbound(func(url.Values) {})},
		{name: "messagein bad signature", method: "POST", path: "/message/messagein", form: inbound(func(url.Values) {}),
			hdr: http.Header{twilio.SignatureHeader: {"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}},
		{name: "messagein NumMedia 99", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("NumMedia", "99") })},
		{name: "messagein invalid UTF-8", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("Body", "\xff\xfe") })},
		{name: "messagein From twice", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Add("From", "whatsapp:+94770000077") })},
		{name: "messagein From not a number", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("From", "whatsapp:hello") })},
		{name: "messagein unknown To", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("To", "whatsapp:+94119999999") })},
		{name: "messagein MessageSid bad", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("MessageSid", "../../etc") })},
		{name: "messagein 1 MB body", method: "POST", path: "/message/messagein", sign: true, form: inbound(func(v url.Values) { v.Set("Body", strings.Repeat("b", 1<<20)) })},
		{name: "messagein text/plain", method: "POST", path: "/message/messagein", ctype: "text/plain", body: "MessageSid=SM1"},
		{name: "messagein JSON no bodySHA256", method: "POST", path: "/message/messagein", ctype: js, body: `{"MessageSid":"SM1"}`,
			hdr: http.Header{twilio.SignatureHeader: {"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}},
		{name: "status unknown status", method: "POST", path: "/message/status", sign: true, form: status(func(v url.Values) { v.Set("MessageStatus", "exploded") })},
		{name: "status no MessageSid", method: "POST", path: "/message/status", sign: true, form: status(func(v url.Values) { v.Del("MessageSid") })},
	}
}

// badInput sends every malformed request once and counts the answers by class:
// every one should be a 4xx; a 5xx fails the run, a 2xx is reported.
func badInput(ctx context.Context, e *env) (*result, error) {
	res := &result{Name: "bad-input"}
	r, err := newRig(ctx, e, res.Name, nil)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var cs codes
	for _, c := range badCases(r.tenant) {
		body, ctype, hdr := []byte(c.body), c.ctype, c.hdr.Clone()
		if c.form != nil {
			body, ctype = []byte(c.form.Encode()), "application/x-www-form-urlencoded"
			if c.sign {
				if hdr == nil {
					hdr = http.Header{}
				}
				hdr.Set(twilio.SignatureHeader, twilio.Sign(r.prov.authToken, r.api.base+c.path, c.form))
			}
		}
		code, answer, err := r.api.call(ctx, c.method, c.path, ctype, body, hdr)
		cs.add(code)
		switch {
		case code >= 500:
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %d %.200s", c.name, code, answer))
		case code == 0:
			res.Notes = append(res.Notes, fmt.Sprintf("%s: no answer (%v)", c.name, err))
		case code < 400:
			res.Notes = append(res.Notes, fmt.Sprintf("%s: accepted with %d (should be a 4xx)", c.name, code))
		}
	}
	if r.srv.Died() {
		res.Failures = append(res.Failures, "the server died:\n"+r.srv.Tail.String())
	}
	res.Fields = append(res.Fields, fmt.Sprintf("cases=%d", len(badCases(r.tenant))))
	res.Fields = append(res.Fields, cs.fields("")...)
	return res, nil
}
