package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/connectme/connectme/twilio"
)

// provider is a fake Twilio Messages API: it takes every message, counts each body
// (so losses and duplicates are counted from what the provider has), and posts
// signed sent/delivered callbacks to the StatusCallback URL, through the proxy.
type provider struct {
	srv        *httptest.Server
	accountSID string
	authToken  string
	callbacks  *http.Client

	mu     sync.Mutex
	byBody map[string]int
	// sids of the messages taken, for the list API the server uses when a send's
	// outcome is unknown (a restart in the middle of a send).
	taken []providerMessage
	// callbackCodes counts the answers to status callbacks (0: no answer).
	callbackCodes map[int]int
	inFlight      sync.WaitGroup
}

type providerMessage struct {
	sid, from, to, body string
	created             time.Time
}

func newProvider(callbacks *http.Client) *provider {
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := &provider{accountSID: "ACdeploy" + hex.EncodeToString(b[:8]), authToken: hex.EncodeToString(b[8:]),
		callbacks: callbacks, byBody: map[string]int{}, callbackCodes: map[int]int{}}
	p.srv = httptest.NewServer(p)
	return p
}

func (p *provider) messagesPath() string {
	return "/2010-04-01/Accounts/" + p.accountSID + "/Messages.json"
}

// ServeHTTP implements Messages create (POST) and list (GET).
func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	if r.URL.Path != p.messagesPath() || user != p.accountSID || pass != p.authToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	if r.Method == http.MethodGet {
		p.list(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	m := providerMessage{sid: "SM" + hex.EncodeToString(sid[:]), from: r.PostForm.Get("From"),
		to: r.PostForm.Get("To"), body: r.PostForm.Get("Body"), created: time.Now()}
	p.mu.Lock()
	p.byBody[m.body]++
	p.taken = append(p.taken, m)
	p.mu.Unlock()
	if cb := r.PostForm.Get("StatusCallback"); cb != "" {
		p.inFlight.Add(1)
		go func() { defer p.inFlight.Done(); p.report(cb, m) }()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":%q,"status":"queued","to":%q,"from":%q,"body":%q,"error_code":null,"error_message":null}`,
		m.sid, m.to, m.from, m.body)
}

// report posts the sent and delivered callbacks, signed over the URL the server
// gave (PUBLIC_BASE_URL + path), as Twilio does.
func (p *provider) report(callback string, m providerMessage) {
	for _, status := range []string{"sent", "delivered"} {
		time.Sleep(30 * time.Millisecond)
		form := url.Values{"MessageSid": {m.sid}, "MessageStatus": {status}, "AccountSid": {p.accountSID},
			"From": {m.from}, "To": {m.to}}
		req, err := http.NewRequest(http.MethodPost, callback, strings.NewReader(form.Encode()))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(p.authToken, callback, form))
		code := 0
		if resp, err := p.callbacks.Do(req); err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		p.mu.Lock()
		p.callbackCodes[code]++
		p.mu.Unlock()
	}
}

// list answers GET Messages.json (To/From filters, newest first, one page): enough
// for the server's lookup of a send whose answer it never saw.
func (p *provider) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	n := 0
	for i := len(p.taken) - 1; i >= 0 && n < 1000; i-- {
		m := p.taken[i]
		if (q.Get("To") != "" && m.to != q.Get("To")) || (q.Get("From") != "" && m.from != q.Get("From")) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		created := m.created.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
		fmt.Fprintf(&b, `{"sid":%q,"from":%q,"to":%q,"body":%q,"status":"queued","num_media":"0","date_created":%q,"date_updated":%q,"date_sent":null,"direction":"outbound-api"}`,
			m.sid, m.from, m.to, m.body, created, created)
		n++
	}
	p.mu.Unlock()
	fmt.Fprintf(&b, `],"page":0,"page_size":1000,"next_page_uri":null}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}

// counts returns how many times the provider took each body.
func (p *provider) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.byBody))
	for k, v := range p.byBody {
		out[k] = v
	}
	return out
}

// callbackAnswers returns the status callbacks' answers by status code.
func (p *provider) callbackAnswers() map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]int, len(p.callbackCodes))
	for k, v := range p.callbackCodes {
		out[k] = v
	}
	return out
}
