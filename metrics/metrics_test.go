package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, b)
	}
	return string(b)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveHTTP("GET", "/", 200, time.Millisecond)
	m.ObserveGraphQL("query", "Me", "ok", time.Millisecond)
	m.Webhook("message", WebhookAccepted)
	m.Delivery(DeliverySent)
	m.WebsocketOpened()
	m.WebsocketClosed()
	m.RequestStarted()
	m.RequestDone()
	m.RequestShed()
	m.ReadTurn(time.Millisecond, time.Millisecond)
	m.WatchDB("x", nil)
	m.WatchBus(nil)
	m.WatchDeliveryQueue(nil)
}

func TestOperationNamesAreBounded(t *testing.T) {
	b := &boundedNames{max: 3, seen: map[string]struct{}{}}
	for i, want := range []string{"A", "B", "C", "other", "other"} {
		if got := b.label(fmt.Sprintf("%c", 'A'+i)); got != want {
			t.Errorf("name %d: %q, want %q", i, got, want)
		}
	}
	if got := b.label("A"); got != "A" {
		t.Errorf("a known name became %q", got)
	}
	for _, bad := range []string{"1abc", "a b", "é", strings.Repeat("a", 65), "x\n"} {
		if got := b.label(bad); got != "other" {
			t.Errorf("%q labelled %q", bad, got)
		}
	}
	if got := b.label(""); got != "anonymous" {
		t.Errorf("empty name labelled %q", got)
	}
}

func TestQueueSeriesAreLeftOutWhenTheDatabaseFails(t *testing.T) {
	m := New(prometheus.NewRegistry())
	fail := true
	m.WatchDeliveryQueue(func(ctx context.Context) (QueueStats, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the queue query has no deadline")
		}
		if fail {
			return QueueStats{}, errors.New("connection refused")
		}
		return QueueStats{Depth: 3, Due: 2, OldestAge: 90 * time.Second}, nil
	})
	m.Delivery(DeliverySent)
	out := scrape(t, m)
	if strings.Contains(out, "connectme_delivery_queue_depth") {
		t.Errorf("queue depth served although its query failed:\n%s", out)
	}
	if !strings.Contains(out, `connectme_delivery_jobs_total{event="sent"} 1`) || !strings.Contains(out, "go_goroutines") {
		t.Errorf("the other series must still be served:\n%s", out)
	}
	fail = false
	out = scrape(t, m)
	for _, want := range []string{"connectme_delivery_queue_depth 3", "connectme_delivery_queue_due 2", "connectme_delivery_queue_oldest_age_seconds 90"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}
