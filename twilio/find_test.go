package twilio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/connectme/connectme/twilio"
)

// listProvider serves Twilio's Messages list, newest first, pageSize to a page.
type listProvider struct {
	msgs     []map[string]string // newest first
	pageSize int
	pages    int
}

func (l *listProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.pages++
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("Page"))
	var page []map[string]string
	for _, m := range l.msgs {
		if m["from"] == q.Get("From") && m["to"] == q.Get("To") {
			page = append(page, m)
		}
	}
	from := start * l.pageSize
	if from > len(page) {
		from = len(page)
	}
	to := min(from+l.pageSize, len(page))
	next := ""
	if to < len(page) {
		nq := url.Values{"From": {q.Get("From")}, "To": {q.Get("To")}, "Page": {strconv.Itoa(start + 1)}}
		next = r.URL.Path + "?" + nq.Encode()
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": page[from:to], "next_page_uri": next})
}

func msg(sid, body string, numMedia int, created time.Time) map[string]string {
	return map[string]string{"sid": sid, "from": "whatsapp:+14155550000", "to": "whatsapp:+94717936775",
		"body": body, "num_media": strconv.Itoa(numMedia), "status": "sent",
		"date_created": created.UTC().Format(time.RFC1123Z)}
}

func TestFindSent_MatchesBodyAndMediaAmongRecentMessages(t *testing.T) {
	now := time.Now()
	since := now.Add(-10 * time.Minute)
	lp := &listProvider{pageSize: 2, msgs: []map[string]string{
		msg("SM5", "other", 0, now),
		msg("SM4", "hello", 1, now.Add(-time.Minute)), // same text, other media count
		msg("SM3", "later", 0, now.Add(-2*time.Minute)),
		msg("SM2", "hello", 0, now.Add(-3*time.Minute)), // ours, on the second page
		msg("SM1", "hello", 0, now.Add(-time.Hour)),     // same text, before the attempt
	}}
	srv := httptest.NewServer(lp)
	defer srv.Close()
	c := twilio.NewClient("AC123", "tok", srv.URL)
	base := twilio.Match{From: "whatsapp:+14155550000", To: "whatsapp:+94717936775", Body: "hello", Since: since}

	res, err := c.FindSent(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].SID != "SM2" || res[0].Status != "sent" {
		t.Fatalf("found %+v, want SM2 alone (SM1 predates the attempt, SM4 has media)", res)
	}

	none := base
	none.Body = "never sent"
	lp.pages = 0
	if res, err := c.FindSent(context.Background(), none); err != nil || len(res) != 0 {
		t.Fatalf("found %+v, %v for a message the provider does not have", res, err)
	}
	if lp.pages != 3 {
		t.Fatalf("read %d pages; want 3 (it stops at the page holding messages older than the attempt)", lp.pages)
	}
}

func TestFindSent_ErrorAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := twilio.NewClient("AC123", "tok", srv.URL)
	if _, err := c.FindSent(context.Background(), twilio.Match{Since: time.Now()}); err == nil {
		t.Fatal("a 503 from the list is an error, not 'not found'")
	}
}

// TestSend_OutcomeAfterTheRequestIsAmbiguous: a provider that read the whole
// request and then cut the connection or stalled may have the message.
func TestSend_OutcomeAfterTheRequestIsAmbiguous(t *testing.T) {
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer cut.Close()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		<-r.Context().Done()
	}))
	defer stall.Close()
	garbled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":`)
	}))
	defer garbled.Close()

	m := &twilio.Message{From: "whatsapp:+1", To: "whatsapp:+2", Body: "x"}
	for name, u := range map[string]string{"cut": cut.URL, "stall": stall.URL, "garbled": garbled.URL} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := twilio.NewClient("AC", "tok", u).Send(ctx, m)
		cancel()
		if err == nil || !twilio.IsAmbiguous(err) || twilio.IsPermanent(err) {
			t.Errorf("%s: err = %v; want an ambiguous, temporary error", name, err)
		}
	}

	// Nothing listens: the request never left, so retrying is safe.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = twilio.NewClient("AC", "tok", "http://"+addr).Send(context.Background(), m)
	if err == nil || twilio.IsAmbiguous(err) {
		t.Errorf("refused connection: err = %v; want a plain temporary error", err)
	}
}
