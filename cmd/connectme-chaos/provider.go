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

// action is what the fake provider does with one send request.
type action int

const (
	// accept takes the message and answers 201 with its sid.
	accept action = iota
	// fail500 refuses the message with a 500.
	fail500
	// fail429 refuses the message with a 429.
	fail429
	// stall holds the request past our client's timeout, then takes the message:
	// the provider has it, we never learn its sid.
	stall
	// cut takes the message, then closes the connection before answering.
	cut
)

var actionNames = [...]string{"accept", "500", "429", "stall", "cut"}

func (a action) String() string { return actionNames[a] }

// planFunc picks the action for a send request; it is called under the provider's
// lock, so it may use an unsynchronised random source.
type planFunc func(body string) action

// providerMessage is one message the provider took, as its list API shows it.
type providerMessage struct {
	SID      string
	From, To string
	Body     string
	NumMedia int
	Created  time.Time
	seq      int
}

// provider is a fake Twilio Messages API in process. It misbehaves on purpose per
// request, as plan says, and records every message it took, so duplicates and
// losses are counted from what the provider has, not from what we believe we sent.
type provider struct {
	srv        *httptest.Server
	accountSID string
	authToken  string
	// stallFor is how long a stalled request is held before the message is taken.
	stallFor time.Duration
	// latency delays every accepted answer, so that sends are in flight when the
	// kill experiment strikes.
	latency time.Duration
	// callbacks posts signed sent/delivered status callbacks for taken messages.
	callbacks bool

	mu       sync.Mutex
	plan     planFunc
	messages []*providerMessage
	byBody   map[string]int
	actions  map[action]int
	refused  int
	inFlight int
	// callbacksRefused counts status callbacks the server did not take (down,
	// 503): the statuses of those messages stay behind, as they would with Twilio.
	callbacksRefused int
	now              func() time.Time
	seq              int
}

// newProvider starts a fake provider answering on a loopback port.
func newProvider(plan planFunc) *provider {
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := &provider{
		accountSID: "ACchaos" + hex.EncodeToString(b[:8]),
		authToken:  hex.EncodeToString(b[8:]),
		plan:       plan,
		byBody:     map[string]int{},
		actions:    map[action]int{},
		stallFor:   twilio.DefaultTimeout + time.Second,
		now:        time.Now,
	}
	if p.plan == nil {
		p.plan = func(string) action { return accept }
	}
	p.srv = httptest.NewServer(p)
	return p
}

// setLatency delays the answers to accepted messages from now on.
func (p *provider) setLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

func (p *provider) close() { p.srv.Close() }

// url is TWILIO_API_BASE for the server.
func (p *provider) url() string { return p.srv.URL }

func (p *provider) messagesPath() string {
	return "/2010-04-01/Accounts/" + p.accountSID + "/Messages.json"
}

// ServeHTTP implements the Messages create (POST) and list (GET) calls.
func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	if r.URL.Path != p.messagesPath() || user != p.accountSID || pass != p.authToken {
		p.mu.Lock()
		p.refused++
		p.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	switch r.Method {
	case http.MethodGet:
		p.list(w, r)
	case http.MethodPost:
		p.create(w, r)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (p *provider) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":21602,"message":"unreadable form","status":400}`)
		return
	}
	body := r.PostForm.Get("Body")
	p.mu.Lock()
	act := p.plan(body)
	latency := p.latency
	p.actions[act]++
	p.inFlight++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()

	switch act {
	case fail500:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"code":20500,"message":"Internal Server Error","status":500}`)
		return
	case fail429:
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"code":20429,"message":"Too Many Requests","status":429}`)
		return
	case stall:
		// Held past the client's timeout whether or not the client is still there:
		// Twilio finishes what it started.
		time.Sleep(p.stallFor)
	}
	m := p.take(r.PostForm)
	if act == cut {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if act == accept && latency > 0 {
		time.Sleep(latency)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":%q,"status":"queued","to":%q,"from":%q,"body":%q,"error_code":null,"error_message":null}`,
		m.SID, m.To, m.From, m.Body)
}

// take records a message the provider now has, and reports its progress to the
// StatusCallback, as Twilio does, when callbacks are on.
func (p *provider) take(form url.Values) *providerMessage {
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	m := &providerMessage{SID: "SM" + hex.EncodeToString(sid[:]), From: form.Get("From"), To: form.Get("To"),
		Body: form.Get("Body"), NumMedia: len(form["MediaUrl"])}
	p.mu.Lock()
	p.seq++
	m.seq, m.Created = p.seq, p.now()
	p.messages = append(p.messages, m)
	p.byBody[m.Body]++
	p.mu.Unlock()
	if cb := form.Get("StatusCallback"); cb != "" && p.callbacks {
		// Counted as in hand until posted, so the experiment reads the statuses
		// after the last callback.
		p.mu.Lock()
		p.inFlight++
		p.mu.Unlock()
		go func() {
			defer func() {
				p.mu.Lock()
				p.inFlight--
				p.mu.Unlock()
			}()
			p.report(cb, m)
		}()
	}
	return m
}

// report posts the sent and delivered callbacks, signed with the auth token over
// the callback URL exactly as given. A server that is down misses them, as it
// would miss Twilio's.
func (p *provider) report(callback string, m *providerMessage) {
	client := &http.Client{Timeout: 5 * time.Second}
	for _, status := range []string{"sent", "delivered"} {
		time.Sleep(50 * time.Millisecond)
		form := url.Values{"MessageSid": {m.SID}, "MessageStatus": {status}, "AccountSid": {p.accountSID},
			"From": {m.From}, "To": {m.To}}
		req, err := http.NewRequest(http.MethodPost, callback, strings.NewReader(form.Encode()))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(p.authToken, callback, form))
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if err != nil || resp.StatusCode >= 300 {
			p.mu.Lock()
			p.callbacksRefused++
			p.mu.Unlock()
			return
		}
	}
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

// busy reports how many send requests and callbacks the provider still has in hand
// (a stalled request may yet take its message).
func (p *provider) busy() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// summary describes what the provider did, for the report's detail line.
func (p *provider) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for a := accept; a <= cut; a++ {
		if n := p.actions[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", a, n))
		}
	}
	if p.refused > 0 {
		parts = append(parts, fmt.Sprintf("refused=%d", p.refused))
	}
	if p.callbacksRefused > 0 {
		parts = append(parts, fmt.Sprintf("callbacks-not-taken=%d", p.callbacksRefused))
	}
	if len(parts) == 0 {
		parts = append(parts, "no send requests")
	}
	return "provider: " + strings.Join(parts, " ")
}
