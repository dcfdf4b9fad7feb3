package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

// lossyTwilio is a provider whose answers get lost: for the first attempt of each
// message it keeps the message and then cuts the connection (or, with drop, cuts
// it without keeping the message). It lists what it has, newest first, like
// Twilio's Messages list, and counts how often it took each body.
type lossyTwilio struct {
	srv *httptest.Server
	// drop: the first attempt is cut before the provider keeps the message.
	drop bool
	// callback, when set, is called with the StatusCallback URL and the sid of a
	// message kept on a cut attempt, before the cut (Twilio's callback racing ahead).
	callback func(callbackURL, sid string)

	mu    sync.Mutex
	kept  []map[string]string // oldest first
	taken map[string]int      // body → times kept
	tried map[string]int      // body → attempts seen
}

func newLossyTwilio(t *testing.T) *lossyTwilio {
	f := &lossyTwilio{taken: map[string]int{}, tried: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *lossyTwilio) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		f.list(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body := r.PostForm.Get("Body")
	sid := newSID()
	f.mu.Lock()
	f.tried[body]++
	first := f.tried[body] == 1
	keep := !(first && f.drop)
	if keep {
		f.taken[body]++
		f.kept = append(f.kept, map[string]string{"sid": sid, "from": r.PostForm.Get("From"), "to": r.PostForm.Get("To"),
			"body": body, "num_media": strconv.Itoa(len(r.PostForm["MediaUrl"])), "status": "queued",
			"date_created": time.Now().UTC().Format(time.RFC1123Z)})
	}
	cb := f.callback
	f.mu.Unlock()
	if first {
		if keep && cb != nil {
			cb(r.PostForm.Get("StatusCallback"), sid)
		}
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":%q,"status":"queued","error_code":null}`, sid)
}

func (f *lossyTwilio) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var out []map[string]string
	for i := len(f.kept) - 1; i >= 0; i-- {
		if m := f.kept[i]; m["from"] == q.Get("From") && m["to"] == q.Get("To") {
			out = append(out, m)
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": out, "next_page_uri": nil})
}

func (f *lossyTwilio) client() *twilio.Client {
	return twilio.NewClient(accountSID, authToken, f.srv.URL)
}

// sendLossy stores n messages, runs a pool against f until each has a provider id
// or a failure, and returns them.
func sendLossy(t *testing.T, f *lossyTwilio, bdb *bun.DB, n int) []*db.Message {
	t.Helper()
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, f.client()))
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = store(t, bdb, conv, outbound{content: fmt.Sprintf("lossy %d", i)}).ID
	}
	out := make([]*db.Message, n)
	for i, id := range ids {
		out[i] = waitHandled(t, bdb, id)
	}
	return out
}

// TestDeliver_AnswerLostAfterTheProviderTookItIsNotSentTwice: the provider keeps
// each message and cuts the connection before answering. The retry asks the
// provider first and adopts its message: every message reaches the provider once.
// Before the fix each was sent twice.
func TestDeliver_AnswerLostAfterTheProviderTookItIsNotSentTwice(t *testing.T) {
	f := newLossyTwilio(t)
	bdb := testkit.DB(t)
	const n = 40
	msgs := sendLossy(t, f, bdb, n)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range msgs {
		body := fmt.Sprintf("lossy %d", i)
		if f.taken[body] != 1 {
			t.Errorf("%q reached the provider %d times, want once", body, f.taken[body])
		}
		if m.ProviderSID == nil || m.Status == db.StatusFailed {
			t.Errorf("%q ended %s with sid %v; want its provider message adopted", body, m.Status, m.ProviderSID)
		}
	}
}

// TestDeliver_AnswerLostBeforeTheProviderTookItIsSentAgain: the connection is cut
// before the provider keeps the message; asked, the provider does not have it, so
// the message is sent again — once.
func TestDeliver_AnswerLostBeforeTheProviderTookItIsSentAgain(t *testing.T) {
	f := newLossyTwilio(t)
	f.drop = true
	bdb := testkit.DB(t)
	msgs := sendLossy(t, f, bdb, 10)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range msgs {
		body := fmt.Sprintf("lossy %d", i)
		if f.taken[body] != 1 || f.tried[body] != 2 {
			t.Errorf("%q kept %d times in %d attempts; want kept once, on the second attempt", body, f.taken[body], f.tried[body])
		}
		if m.ProviderSID == nil {
			t.Errorf("%q has no provider id", body)
		}
	}
}

// TestDeliver_StatusCallbackNamesTheMessageWhoseAnswerWasLost: Twilio's callback
// carries our message id in its URL, so it gives the message its sid even though
// the send's answer never came; the message then leaves the outbox unsent again.
func TestDeliver_StatusCallbackNamesTheMessageWhoseAnswerWasLost(t *testing.T) {
	f := newLossyTwilio(t)
	bdb := testkit.DB(t)
	r := &resolvers.Resolver{DB: bdb}
	sids := map[string]string{} // message id → sid the callback carried
	var mu sync.Mutex
	f.callback = func(callbackURL, sid string) {
		u, err := url.Parse(callbackURL)
		if err != nil {
			t.Errorf("callback URL %q: %v", callbackURL, err)
			return
		}
		mid := u.Query().Get("mid")
		mu.Lock()
		sids[mid] = sid
		mu.Unlock()
		if err := r.ReceiveStatus(context.Background(), mid, sid, "sent", ""); err != nil {
			t.Errorf("callback: %v", err)
		}
	}
	msgs := sendLossy(t, f, bdb, 10)
	f.mu.Lock()
	defer f.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	for i, m := range msgs {
		body := fmt.Sprintf("lossy %d", i)
		if f.taken[body] != 1 {
			t.Errorf("%q reached the provider %d times, want once", body, f.taken[body])
		}
		if m.ProviderSID == nil || *m.ProviderSID != sids[m.HexID()] || m.Status != db.StatusSent {
			t.Errorf("%q: sid %v status %s; want the callback's sid %s and SENT", body, m.ProviderSID, m.Status, sids[m.HexID()])
		}
	}
}
