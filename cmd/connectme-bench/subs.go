package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// subscriber is one websocket with one subscription (graphql-transport-ws), kept as
// small as the client library allows: the connection and a reading goroutine.
type subscriber struct {
	conn    *websocket.Conn
	company int
	// got records, for each event body it saw, when it arrived.
	mu  sync.Mutex
	got map[string]time.Time
}

// subscriptionQuery is the measured shape: one subscription per socket.
const subscriptionQuery = `subscription { messageAdded { id content datetime } }`

// spaQueries are the subscriptions the SPA opens on its one socket.
var spaQueries = []string{
	subscriptionQuery,
	`subscription { messageStatusChanged { id status } }`,
	`subscription { conversationUpdated { id lastUpdateTime unreadCount } }`,
}

// subscribe opens the socket, sends connection_init with the token, waits for the
// ack, starts the queries' subscriptions (ids 1, 2, …), and starts reading.
func subscribe(ctx context.Context, base, token string, company int, hc *http.Client, queries []string) (*subscriber, error) {
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPClient: hc, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	s := &subscriber{conn: conn, company: company, got: map[string]time.Time{}}
	init := `{"type":"connection_init","payload":{"Authorization":"Bearer ` + token + `"}}`
	if err := conn.Write(ctx, websocket.MessageText, []byte(init)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	_, msg, err := conn.Read(ctx)
	if err != nil || !bytes.Contains(msg, []byte(`"connection_ack"`)) {
		conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %s %v", msg, err)
	}
	for i, q := range queries {
		sub, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i + 1), "type": "subscribe", "payload": map[string]any{"query": q}})
		if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
			conn.CloseNow()
			return nil, err
		}
	}
	go s.read()
	return s, nil
}

// read notes every event's arrival and answers the server's pings.
func (s *subscriber) read() {
	ctx := context.Background()
	for {
		_, msg, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		at := time.Now()
		switch {
		case bytes.Contains(msg, []byte(`"type":"next"`)):
			var m struct {
				Payload struct {
					Data struct {
						MessageAdded struct {
							Content string `json:"content"`
						} `json:"messageAdded"`
					} `json:"data"`
				} `json:"payload"`
			}
			if json.Unmarshal(msg, &m) == nil && m.Payload.Data.MessageAdded.Content != "" {
				s.mu.Lock()
				s.got[m.Payload.Data.MessageAdded.Content] = at
				s.mu.Unlock()
			}
		case bytes.Contains(msg, []byte(`"type":"ping"`)):
			_ = s.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		}
	}
}

func (s *subscriber) arrival(body string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.got[body]
	return t, ok
}

// SubsResult is what the subscription scenario measured.
type SubsResult struct {
	Subs       int     // sockets
	PerSocket  int     // subscriptions on each
	PerKB      float64 // server memory per subscription
	Receivers  int     // subscribers of the event's company
	Received   int     // of them, how many got each event (the smallest count)
	Leaked     int     // events seen by subscribers of other companies
	Lat        []time.Duration
	RSSBefore  int64
	RSSAfter   int64
	ConnectFor time.Duration
}

// runSubscriptions opens n sockets spread over the companies, each with the
// queries' subscriptions, measures the server's memory, then raises events in
// company 1 and times their arrival (messageAdded, the first query) at each of its
// subscribers. Inbound webhooks raise the events, as in production.
func runSubscriptions(ctx context.Context, t *target, n, events int, queries []string, authToken, run string, heap func(), log func(string, ...any)) (*SubsResult, error) {
	res := &SubsResult{Subs: n, PerSocket: len(queries)}
	senders, err := t.inboundSenders(ctx)
	if err != nil {
		return nil, err
	}
	byCompany := map[int]inboundSender{}
	for _, s := range senders {
		if _, ok := byCompany[s.company]; !ok {
			byCompany[s.company] = s
		}
	}
	if len(byCompany) < t.sizes.Companies {
		return nil, fmt.Errorf("not every company has a sender")
	}
	w := &worker{}
	raise := func(company int, body string) error {
		_, err := t.postInbound(ctx, w, authToken, inboundForm(fmt.Sprintf("SM%sev%d%d", run, company, time.Now().UnixNano()), byCompany[company], body))
		return err
	}
	// Warm the path once, then take the baseline.
	first, err := subscribe(ctx, t.srv.base, t.tokens[0], 1, nil, queries)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if err := raise(1, "bench warm "+run); err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	first.conn.CloseNow()
	time.Sleep(500 * time.Millisecond)
	if res.RSSBefore, err = t.srv.rssKB(); err != nil {
		return nil, err
	}

	hc := &http.Client{Timeout: 30 * time.Second}
	subs := make([]*subscriber, n)
	start := time.Now()
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c := i % t.sizes.Companies
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				s, err := subscribe(dctx, t.srv.base, t.tokens[c], c+1, hc, queries)
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				subs[i] = s
				if done := i + 1; done%2000 == 0 {
					log("  %d subscriptions open", done)
				}
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range subs {
			if s != nil {
				s.conn.CloseNow()
			}
		}
	}()
	res.ConnectFor = time.Since(start)
	if f := failed.Load(); f > 0 {
		return res, fmt.Errorf("%d of %d subscriptions failed: %v", f, n, firstErr.Load())
	}
	// The protocol does not acknowledge a subscription: an event in every company,
	// received by all, proves they are all registered.
	for c := 1; c <= t.sizes.Companies; c++ {
		if err := raise(c, fmt.Sprintf("bench probe %s %d", run, c)); err != nil {
			return res, err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range subs {
		for {
			if _, ok := s.arrival(fmt.Sprintf("bench probe %s %d", run, s.company)); ok {
				break
			}
			if time.Now().After(deadline) {
				return res, fmt.Errorf("a subscriber of company %d never got its company's probe event", s.company)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	log("  %d subscriptions open and live after %s", n, res.ConnectFor.Round(time.Millisecond))
	time.Sleep(time.Second)
	if res.RSSAfter, err = t.srv.rssKB(); err != nil {
		return res, err
	}
	res.PerKB = float64(res.RSSAfter-res.RSSBefore) / float64(n*len(queries))
	if heap != nil {
		heap()
	}

	// The measured events: one at a time, each to every subscriber of company 1.
	res.Received = n
	for e := 0; e < events; e++ {
		body := fmt.Sprintf("bench event %s %d", run, e)
		t0 := time.Now()
		if err := raise(1, body); err != nil {
			return res, err
		}
		deadline := time.Now().Add(5 * time.Second)
		got := 0
		for _, s := range subs {
			if s.company != 1 {
				continue
			}
			for {
				if at, ok := s.arrival(body); ok {
					res.Lat = append(res.Lat, at.Sub(t0))
					got++
					break
				}
				if time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		res.Receivers = 0
		for _, s := range subs {
			if s.company == 1 {
				res.Receivers++
			} else if _, ok := s.arrival(body); ok {
				res.Leaked++
			}
		}
		res.Received = min(res.Received, got)
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(res.Lat)
	return res, nil
}
