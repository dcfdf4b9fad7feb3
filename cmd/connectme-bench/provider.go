package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// fakeProvider stands in for Twilio's Messages API, in process: it accepts every
// message with Twilio's answer and notes when each Body arrived, so the time from
// commit to provider can be measured.
type fakeProvider struct {
	srv        *httptest.Server
	accountSID string
	authToken  string

	mu      sync.Mutex
	arrived map[string]arrival
	waiting map[string]chan struct{}
	bad     int
	lastBad string
}

// arrival is one message as the provider saw it.
type arrival struct {
	At       time.Time
	From, To string
}

func newFakeProvider() *fakeProvider {
	var b [16]byte
	_, _ = rand.Read(b[:])
	f := &fakeProvider{
		accountSID: "ACbench" + hex.EncodeToString(b[:8]),
		authToken:  hex.EncodeToString(b[8:]),
		arrived:    map[string]arrival{},
		waiting:    map[string]chan struct{}{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	user, pass, _ := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+f.accountSID+"/Messages.json" ||
		user != f.accountSID || pass != f.authToken || r.ParseForm() != nil {
		f.mu.Lock()
		f.bad++
		f.lastBad = r.Method + " " + r.URL.Path
		f.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	body := r.PostForm.Get("Body")
	f.mu.Lock()
	if _, seen := f.arrived[body]; !seen {
		f.arrived[body] = arrival{At: at, From: r.PostForm.Get("From"), To: r.PostForm.Get("To")}
	}
	if ch := f.waiting[body]; ch != nil {
		close(ch)
		delete(f.waiting, body)
	}
	f.mu.Unlock()
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":"SM%x","status":"queued","error_code":null,"error_message":null}`, sid)
}

// arrivalOf returns when a message with that Body arrived.
func (f *fakeProvider) arrivalOf(body string) (arrival, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.arrived[body]
	return a, ok
}

// wait blocks until a message with that Body arrives, or the timeout.
func (f *fakeProvider) wait(body string, timeout time.Duration) (arrival, bool) {
	f.mu.Lock()
	if a, ok := f.arrived[body]; ok {
		f.mu.Unlock()
		return a, true
	}
	ch := f.waiting[body]
	if ch == nil {
		ch = make(chan struct{})
		f.waiting[body] = ch
	}
	f.mu.Unlock()
	select {
	case <-ch:
		return f.arrivalOf(body)
	case <-time.After(timeout):
		return arrival{}, false
	}
}

// refused returns how many calls it refused (wrong path or credentials).
func (f *fakeProvider) refused() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bad, f.lastBad
}

func (f *fakeProvider) close() { f.srv.Close() }
