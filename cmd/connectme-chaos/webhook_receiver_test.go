package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/webhooks"
)

// signedRequest builds a delivery as the server signs it.
func signedRequest(t *testing.T, url, secret, id string, ts time.Time, body string) *http.Request {
	t.Helper()
	sig, err := webhooks.Sign(secret, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return req
}

func TestVerifyWebhookAcceptsTheServersSignatureAndNothingElse(t *testing.T) {
	secret, other := webhooks.NewSecret(), webhooks.NewSecret()
	now := time.Now()
	body := []byte(`{"type":"message.added"}`)
	good, err := webhooks.Sign(secret, "42", now, body)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := webhooks.Sign(other, "42", now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	if err := verifyWebhook(secret, "42", ts, good, body, now); err != nil {
		t.Fatalf("the server's signature: %v", err)
	}
	if err := verifyWebhook(secret, "42", ts, "v1,AAAA "+good, body, now); err != nil {
		t.Fatalf("one good signature among several: %v", err)
	}
	for _, c := range []struct {
		name, secret, id, ts, sig, body string
		now                             time.Time
	}{
		{"other secret", secret, "42", ts, wrongKey, string(body), now},
		{"other id", secret, "43", ts, good, string(body), now},
		{"other timestamp", secret, "42", strconv.FormatInt(now.Unix()+1, 10), good, string(body), now},
		{"tampered body", secret, "42", ts, good, `{"type":"message.addeD"}`, now},
		{"version v2", secret, "42", ts, "v2," + strings.TrimPrefix(good, "v1,"), string(body), now},
		{"no signature", secret, "42", ts, "", string(body), now},
		{"no id", secret, "", ts, good, string(body), now},
		{"timestamp not a number", secret, "42", "soon", good, string(body), now},
		{"timestamp too old", secret, "42", ts, good, string(body), now.Add(6 * time.Minute)},
		{"secret without whsec_", strings.TrimPrefix(secret, "whsec_"), "42", ts, good, string(body), now},
		{"secret not base64", "whsec_!!", "42", ts, good, string(body), now},
	} {
		if err := verifyWebhook(c.secret, c.id, c.ts, c.sig, []byte(c.body), c.now); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

func TestWebhookReceiverHoldsWithoutAnsweringThenAnswers204(t *testing.T) {
	w := newWebhookReceiver()
	defer w.close()
	secret := webhooks.NewSecret()
	w.setSecret(secret)
	body := `{"type":"message.added","data":{"message":{"content":"hello"}}}`

	// Stalling: the request is held until the client gives up, and not delivered.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(signedRequest(t, w.url(), secret, "1", time.Now(), body).WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for deadline := time.Now().Add(2 * time.Second); w.holding() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the request was not held")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-done; err == nil {
		t.Fatal("a held request was answered")
	}
	for deadline := time.Now().Add(2 * time.Second); w.holding() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the request is still held after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if w.deliveredCopies("1") != 0 {
		t.Fatal("a held request counted as delivered")
	}

	// Answering: 204, counted with its content; a forged one counts as bad.
	w.stopStalling()
	for range 2 {
		resp, err := http.DefaultClient.Do(signedRequest(t, w.url(), secret, "1", time.Now(), body))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("answer: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	forged := signedRequest(t, w.url(), webhooks.NewSecret(), "2", time.Now(), body)
	if resp, err := http.DefaultClient.Do(forged); err == nil {
		resp.Body.Close()
	}
	if w.deliveredCopies("1") != 2 || w.content["1"] != "hello" || w.kind["1"] != "message.added" {
		t.Fatalf("delivered %d content %q kind %q", w.deliveredCopies("1"), w.content["1"], w.kind["1"])
	}
	if len(w.badSig) != 1 || !strings.Contains(w.badSig[0], `"2"`) || w.stalled != 1 || w.requests != 4 {
		t.Fatalf("bad signatures %v, held %d, requests %d", w.badSig, w.stalled, w.requests)
	}
}

func TestWebhookTallyCountsLostDuplicatedAndWrong(t *testing.T) {
	w := &webhookReceiver{
		delivered: map[string]int{"1": 1, "2": 3, "4": 1, "9": 1},
		content:   map[string]string{"1": "a", "2": "b", "4": "x", "9": "other"},
		kind:      map[string]string{"1": "message.added", "2": "message.added", "4": "message.added", "9": "message.added"},
	}
	expected := map[string]string{"1": "a", "2": "b", "3": "c", "4": "d"}
	bodies := []string{"a", "b", "c", "d", "e", "f"}
	acked := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true}
	stored := map[string]int{"a": 1, "b": 1, "c": 1, "d": 1, "f": 1}
	var res result
	webhookTally(&res, w, bodies, acked, stored, expected)
	// Lost: event 3 (c) never delivered, e acknowledged but not stored, f stored without an event.
	if res.Sent != 5 || res.Stored != 5 || res.Once != 2 || res.Dup != 1 || res.Extra != 2 || res.Lost != 3 {
		t.Fatalf("got %+v", res)
	}
	if len(res.Failures) != 2 || !strings.Contains(res.Failures[0], "3 events") || !strings.Contains(res.Failures[1], "wrong message") {
		t.Fatalf("failures %v", res.Failures)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.line(), "other=1") {
		t.Fatalf("notes %v line %s", res.Notes, res.line())
	}
	w.badSig = []string{"forged"}
	var bad result
	webhookTally(&bad, w, nil, nil, nil, map[string]string{"1": "a"})
	if len(bad.Failures) != 1 || !strings.Contains(bad.Failures[0], "signature") {
		t.Fatalf("bad signature: %v", bad.Failures)
	}
}
