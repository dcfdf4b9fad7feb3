package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load is the steady, bounded traffic kept up during the rolling restart: reads,
// sends and signed webhooks through the proxy, and websockets that reconnect.
type load struct {
	c      *client
	t      *tenant
	wsURL  string
	hc     *http.Client
	public string

	requests, reads, sends, webhooks atomic.Int64
	proxyErrors                      atomic.Int64
	wsClean, wsOther, wsReconnected  atomic.Int64

	mu       sync.Mutex
	accepted []string // bodies of sends answered 201
	failures []string // unexpected answers, for the report
	nFail    int
}

// record counts one answer; want is the expected status.
func (l *load) record(kind string, code int, hdr http.Header, want int, err error) bool {
	l.requests.Add(1)
	if code == http.StatusBadGateway || code == http.StatusGatewayTimeout || hdr.Get("X-Proxy-Error") != "" {
		l.proxyErrors.Add(1)
	}
	if code == want && err == nil {
		return true
	}
	l.mu.Lock()
	l.nFail++
	if len(l.failures) < 10 {
		l.failures = append(l.failures, fmt.Sprintf("%s %s: %d %v", time.Now().Format("15:04:05.000"), kind, code, err))
	}
	l.mu.Unlock()
	return false
}

// run keeps the traffic up until ctx ends.
func (l *load) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { l.reader(ctx) })
		wg.Go(func() { l.sender(ctx, i) })
	}
	wg.Go(func() { l.webhooker(ctx) })
	for i := range 4 {
		wg.Go(func() { l.socket(ctx, i) })
	}
	wg.Wait()
}

func tick(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (l *load) reader(ctx context.Context) {
	for tick(ctx, 40*time.Millisecond) {
		code, _, hdr, err := l.c.call(context.Background(), http.MethodGet, "/conversation/conversation-page-list?page=1&limit=10", "", nil, nil)
		l.reads.Add(1)
		l.record("read", code, hdr, http.StatusOK, err)
	}
}

func (l *load) sender(ctx context.Context, w int) {
	for n := 0; tick(ctx, 80*time.Millisecond); n++ {
		text := fmt.Sprintf("deploy-%d-%d", w, n)
		to := l.t.contacts[n%len(l.t.contacts)]
		code, body, err := l.c.postJSON(context.Background(), "/message", map[string]any{"to": to.id, "text": text}, nil)
		l.sends.Add(1)
		var hdr http.Header = http.Header{}
		if strings.Contains(string(body), "no instance answered") {
			hdr.Set("X-Proxy-Error", "1")
		}
		// POST /message answers 200 with the conversation's first page.
		if l.record("send", code, hdr, http.StatusOK, err) {
			l.mu.Lock()
			l.accepted = append(l.accepted, text)
			l.mu.Unlock()
		}
	}
}

func (l *load) webhooker(ctx context.Context) {
	for n := 0; tick(ctx, 80*time.Millisecond); n++ {
		to := l.t.contacts[n%len(l.t.contacts)]
		code, body, err := l.c.inbound(context.Background(), l.public, l.t, to.phone, fmt.Sprintf("inbound %d", n), fmt.Sprintf("SMload%d", n))
		l.webhooks.Add(1)
		var hdr http.Header = http.Header{}
		if strings.Contains(string(body), "no instance answered") {
			hdr.Set("X-Proxy-Error", "1")
		}
		l.record("webhook", code, hdr, http.StatusCreated, err)
	}
}

// socket holds a subscription through the proxy; when the server closes it (a
// restart), it counts how, and reconnects.
func (l *load) socket(ctx context.Context, i int) {
	const q = `subscription { conversationUpdated { id } }`
	connected := false
	for ctx.Err() == nil {
		s, err := subscribe(ctx, l.wsURL, l.hc, l.c.token, q)
		if err != nil {
			l.record(fmt.Sprintf("websocket %d connect", i), 0, http.Header{}, 1, err)
			if !tick(ctx, 250*time.Millisecond) {
				return
			}
			continue
		}
		if connected {
			l.wsReconnected.Add(1)
		}
		connected = true
		select {
		case <-ctx.Done():
			s.close()
			return
		case <-s.closed:
			// The contract's codes for a server that shuts down: 1000 or 1001.
			if s.code == 1000 || s.code == 1001 {
				l.wsClean.Add(1)
			} else {
				l.wsOther.Add(1)
				l.record(fmt.Sprintf("websocket %d closed with %d", i, s.code), int(s.code), http.Header{}, 1000, nil)
			}
		}
	}
}
