package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// webhookTolerance is how far a webhook-timestamp may be from the receiver's
// clock, as Standard Webhooks receivers check it against replays.
const webhookTolerance = 5 * time.Minute

// verifyWebhook checks a delivery as a Standard Webhooks receiver does: one of the
// space-separated "v1,<base64>" signatures must be the HMAC-SHA256 of
// "id.timestamp.body" keyed with the base64-decoded secret after whsec_, and the
// timestamp must be within webhookTolerance of now. It is written here from the
// specification, not taken from the server, so that it checks the server.
func verifyWebhook(secret, id, timestamp, signatures string, body []byte, now time.Time) error {
	if id == "" || timestamp == "" || signatures == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("malformed secret %q", secret)
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not a number", timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > webhookTolerance || d < -webhookTolerance {
		return fmt.Errorf("webhook-timestamp %s is %s away from now", timestamp, d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(signatures) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid v1 signature in %q", signatures)
}

// webhookReceiver is a local Standard Webhooks receiver. While stalling it holds
// every request without answering, until the connection ends (the sender's
// timeout, or its death) or stalling stops; a held request is never answered, so
// it never counts as delivered. Otherwise it answers 204 and counts the delivery
// by its webhook-id. Every request's signature is checked.
type webhookReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	stalling bool
	release  chan struct{}
	held     int // requests held now
	stalled  int // requests held in all
	requests int
	// delivered counts the 204 answers per webhook-id; content is the message
	// text and kind the type each webhook-id carried.
	delivered map[string]int
	content   map[string]string
	kind      map[string]string
	// badSig lists the requests whose signature or timestamp failed the check.
	badSig []string
	last   time.Time // the last 204
}

// newWebhookReceiver starts a receiver that stalls until stopStalling.
func newWebhookReceiver() *webhookReceiver {
	w := &webhookReceiver{stalling: true, release: make(chan struct{}),
		delivered: map[string]int{}, content: map[string]string{}, kind: map[string]string{}}
	w.srv = httptest.NewServer(w)
	return w
}

// url is where the endpoint points.
func (w *webhookReceiver) url() string { return w.srv.URL + "/hooks/connectme" }

// close stops the receiver, releasing held requests first.
func (w *webhookReceiver) close() {
	w.stopStalling()
	w.srv.CloseClientConnections()
	w.srv.Close()
}

// setSecret sets the endpoint's secret, which signatures are checked against.
func (w *webhookReceiver) setSecret(s string) {
	w.mu.Lock()
	w.secret = s
	w.mu.Unlock()
}

// stopStalling makes the receiver answer 204 from now on; held requests end
// without an answer.
func (w *webhookReceiver) stopStalling() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stalling {
		w.stalling = false
		close(w.release)
	}
}

// holding returns how many requests are held now.
func (w *webhookReceiver) holding() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// deliveredCopies returns how often a webhook-id was answered 204.
func (w *webhookReceiver) deliveredCopies(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.delivered[id]
}

// webhookPayloadView is the part of a delivery's JSON the experiment checks.
type webhookPayloadView struct {
	Type string `json:"type"`
	Data struct {
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"data"`
}

func (w *webhookReceiver) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	id := req.Header.Get("webhook-id")
	w.mu.Lock()
	w.requests++
	if err == nil {
		err = verifyWebhook(w.secret, id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body, time.Now())
	}
	if err != nil {
		w.badSig = append(w.badSig, fmt.Sprintf("webhook-id %q: %v", id, err))
	}
	if w.stalling {
		w.held++
		w.stalled++
		release := w.release
		w.mu.Unlock()
		select {
		case <-release:
		case <-req.Context().Done():
		}
		w.mu.Lock()
		w.held--
		w.mu.Unlock()
		// No answer: the connection is cut, so the request cannot count as delivered.
		panic(http.ErrAbortHandler)
	}
	w.delivered[id]++
	var p webhookPayloadView
	if json.Unmarshal(body, &p) == nil {
		w.kind[id] = p.Type
		if p.Data.Message != nil && p.Data.Message.Content != nil {
			w.content[id] = *p.Data.Message.Content
		}
	}
	w.last = time.Now()
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}
