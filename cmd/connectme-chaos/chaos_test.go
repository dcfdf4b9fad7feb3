package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/twilio"
)

// listAll follows next_page_uri from the first page and returns the bodies seen.
func listAll(t *testing.T, p *provider, query url.Values) (bodies []string, pages int) {
	t.Helper()
	uri := p.messagesPath() + "?" + query.Encode()
	for uri != "" {
		req, _ := http.NewRequest(http.MethodGet, p.url()+uri, nil)
		req.SetBasicAuth(p.accountSID, p.authToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page listPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %d %v", uri, resp.StatusCode, err)
		}
		pages++
		for _, m := range page.Messages {
			if m.DateSent != nil || m.NumMedia != "0" || m.SID == "" {
				t.Fatalf("message %+v: want date_sent null, num_media 0 and a sid", m)
			}
			if _, err := time.Parse(rfc2822, m.DateCreated); err != nil {
				t.Fatalf("date_created %q: %v", m.DateCreated, err)
			}
			bodies = append(bodies, m.Body)
		}
		uri = ""
		if page.NextPageURI != nil {
			uri = *page.NextPageURI
		}
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	return bodies, pages
}

func TestProviderListPagesNewestFirstByToAndFrom(t *testing.T) {
	p := newProvider(nil)
	defer p.close()
	client := twilio.NewClient(p.accountSID, p.authToken, p.url())
	for i := range 7 {
		to := "whatsapp:+94770000001"
		if i%2 == 1 {
			to = "whatsapp:+94770000002"
		}
		if _, err := client.Send(context.Background(), &twilio.Message{From: "whatsapp:+94110000001", To: to, Body: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	bodies, pages := listAll(t, p, url.Values{"To": {"whatsapp:+94770000001"}, "From": {"whatsapp:+94110000001"}, "PageSize": {"2"}})
	if got := strings.Join(bodies, ","); got != "m6,m4,m2,m0" || pages != 2 {
		t.Fatalf("got %s in %d pages, want m6,m4,m2,m0 in 2", got, pages)
	}
	if bodies, _ := listAll(t, p, url.Values{"PageSize": {"3"}}); len(bodies) != 7 || bodies[0] != "m6" {
		t.Fatalf("unfiltered: %v", bodies)
	}
	if bodies, _ := listAll(t, p, url.Values{"From": {"whatsapp:+94110000009"}}); len(bodies) != 0 {
		t.Fatalf("other sender: %v", bodies)
	}
}

func TestProviderCutTakesTheMessageButAnswersNothing(t *testing.T) {
	p := newProvider(func(body string) action {
		if body == "cut" {
			return cut
		}
		return fail500
	})
	defer p.close()
	client := twilio.NewClient(p.accountSID, p.authToken, p.url())
	send := func(body string) error {
		_, err := client.Send(context.Background(), &twilio.Message{From: "whatsapp:+94110000001", To: "whatsapp:+94770000001", Body: body})
		return err
	}
	if err := send("cut"); err == nil || twilio.IsPermanent(err) {
		t.Fatalf("cut: got %v, want a temporary error", err)
	}
	if err := send("refused"); err == nil || twilio.IsPermanent(err) {
		t.Fatalf("500: got %v, want a temporary error", err)
	}
	if got := p.counts(); got["cut"] != 1 || got["refused"] != 0 {
		t.Fatalf("taken: %v, want the cut message once and the refused one never", got)
	}
}

func TestTallyCountsOnceDuplicatesLostAndGhosts(t *testing.T) {
	attempted := []string{"a", "b", "c", "d", "e"}
	acked := map[string]bool{"a": true, "b": true, "c": true}
	stored := map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}
	taken := map[string]int{"a": 1, "b": 3, "d": 1}
	var r result
	lost, dup := tally(&r, attempted, acked, stored, taken)
	want := result{Sent: 3, Stored: 4, Once: 2, Dup: 1, Extra: 2, Lost: 1, Ghost: 1}
	if r.Sent != want.Sent || r.Stored != want.Stored || r.Once != want.Once || r.Dup != want.Dup ||
		r.Extra != want.Extra || r.Lost != want.Lost || r.Ghost != want.Ghost {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	if strings.Join(lost, ",") != "c" || strings.Join(dup, ",") != "b" {
		t.Fatalf("lost %v dup %v", lost, dup)
	}
	r.judge(false, lost, dup)
	if len(r.Failures) != 1 || len(r.Notes) != 1 || !strings.Contains(r.line(), "FAIL") {
		t.Fatalf("judge without failing on duplicates: failures %v notes %v", r.Failures, r.Notes)
	}
	strict := result{Dup: 1, Extra: 1}
	strict.judge(true, nil, []string{"x"})
	if len(strict.Failures) != 1 {
		t.Fatalf("judge failing on duplicates: %v", strict.Failures)
	}
}

func TestCodesClassifies(t *testing.T) {
	var c codes
	for _, code := range []int{0, 200, 201, 400, 413, 503, 500, 502} {
		c.add(code)
	}
	if c != (codes{OK: 2, C4xx: 2, C503: 1, C5xx: 2, None: 1}) {
		t.Fatalf("got %+v", c)
	}
}
