package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// webhookTimeout is the server's WEBHOOK_TIMEOUT in webhook-kill: the lease of a
// claimed delivery is 2 × it + 20 s, so the killed instance's claims come back
// after 24 s.
const webhookTimeout = 2 * time.Second

// createWebhookEndpoint creates an endpoint for MESSAGE_ADDED through GraphQL as
// the company's OWNER and returns its secret.
func createWebhookEndpoint(ctx context.Context, c *apiClient, url string) (string, error) {
	code, body, err := c.postJSON(ctx, "/graphql", map[string]any{
		"query": `mutation Create($in: CreateWebhookEndpointInput!) {
			createWebhookEndpoint(input: $in) { id url secret }
		}`,
		"variables": map[string]any{"in": map[string]any{"url": url, "eventTypes": []string{"MESSAGE_ADDED"}}},
	})
	if err != nil || code != http.StatusOK {
		return "", fmt.Errorf("createWebhookEndpoint: %d %s %v", code, body, err)
	}
	var ans struct {
		Data struct {
			CreateWebhookEndpoint *struct {
				ID     string  `json:"id"`
				Secret *string `json:"secret"`
			} `json:"createWebhookEndpoint"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || len(ans.Errors) > 0 ||
		ans.Data.CreateWebhookEndpoint == nil || ans.Data.CreateWebhookEndpoint.Secret == nil {
		return "", fmt.Errorf("createWebhookEndpoint answer %s: %v", body, err)
	}
	return *ans.Data.CreateWebhookEndpoint.Secret, nil
}

// messageAddedEvents returns the webhook-ids (event ids) of the MESSAGE_ADDED
// events of the experiment's inbound messages, with each message's text: what the
// endpoint must receive.
func (r *rig) messageAddedEvents(ctx context.Context) (map[string]string, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT e.id::text, m.content FROM events e JOIN messages m ON m.id = e.message_id
		WHERE e.type = 'MESSAGE_ADDED' AND m.direction = 'RECEIVED' AND m.content LIKE 'chaos %'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		out[id] = body
	}
	return out, rows.Err()
}

// webhookStates describes the endpoint's deliveries, e.g. "DELIVERED=300
// attempts=304 pending=0".
func (r *rig) webhookStates(ctx context.Context) (string, int) {
	rows, err := r.db.QueryContext(ctx, `SELECT state, count(*), sum(attempts) FROM webhook_deliveries GROUP BY state ORDER BY state`)
	if err != nil {
		return "deliveries: " + err.Error(), -1
	}
	defer rows.Close()
	var parts []string
	attempts, pending := 0, 0
	for rows.Next() {
		var s string
		var n, a int
		if rows.Scan(&s, &n, &a) == nil {
			parts = append(parts, fmt.Sprintf("%s=%d", s, n))
			attempts += a
			if s == "PENDING" {
				pending = n
			}
		}
	}
	return fmt.Sprintf("deliveries: %s attempts=%d", strings.Join(parts, " "), attempts), pending
}

// webhookKill points a webhook endpoint for MESSAGE_ADDED at a local receiver
// that holds every request without answering, posts n signed inbound messages
// and, a third of the way, while the receiver holds a delivery, kills the server
// with SIGKILL. The receiver then answers 204 and a fresh server starts on the
// same database. The killed instance's claims come back after their lease, the
// attempts that timed out before the kill are retried: every event must reach
// the receiver at least once, with a valid signature. Duplicates are counted, not
// failed (at-least-once).
func webhookKill(ctx context.Context, e *env) (*result, error) {
	res := &result{Name: "webhook-kill"}
	r, err := newRig(ctx, e, res.Name, nil, "WEBHOOK_ALLOW_PRIVATE=true", "WEBHOOK_TIMEOUT="+webhookTimeout.String())
	if err != nil {
		return nil, err
	}
	defer func() { r.close() }()
	recv := newWebhookReceiver()
	defer recv.close()
	secret, err := createWebhookEndpoint(ctx, r.api, recv.url())
	if err != nil {
		return nil, err
	}
	recv.setSecret(secret)

	var (
		mu         sync.Mutex
		acked      = map[string]bool{}
		inCodes    codes
		killed     bool
		restarted  = make(chan struct{})
		inFlight   int
		restartErr error
		killedAt   time.Time
		upAt       time.Time
	)
	strike := func() {
		// Strike while the receiver holds a delivery: the attempt is in flight.
		for deadline := time.Now().Add(15 * time.Second); recv.holding() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		inFlight = recv.holding()
		r.srv.Kill()
		killedAt = time.Now()
		recv.stopStalling()
		srv, err := r.srv.restart(ctx)
		if err != nil {
			restartErr = err
		} else {
			r.srv = srv
		}
		upAt = time.Now()
		close(restarted)
	}
	bodies := r.bodies("in", e.n)
	// post sends one inbound message as Twilio does: again, with the same
	// MessageSid, until a 2xx answers.
	post := func(i int) {
		c := r.tenant.contacts[i%len(r.tenant.contacts)]
		for try := 0; try < 10 && ctx.Err() == nil; try++ {
			code, _, _ := r.api.inbound(ctx, r.tenant, c.phone, bodies[i], "SMwh"+sidSafe(bodies[i]))
			mu.Lock()
			inCodes.add(code)
			ok := code >= 200 && code < 300
			if ok {
				acked[bodies[i]] = true
			}
			strikeNow := !killed && len(acked) >= e.n/3
			if strikeNow {
				killed = true
			}
			down := killed
			mu.Unlock()
			if strikeNow {
				strike()
			}
			if ok {
				return
			}
			if down {
				<-restarted
			} else {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				post(i)
			}
		}()
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
	if restartErr != nil {
		return nil, fmt.Errorf("restart after kill -9: %w", restartErr)
	}
	if !killed {
		return nil, fmt.Errorf("the kill never happened (%d of %d inbound messages acknowledged)", len(acked), e.n)
	}

	// Wait until every event was delivered and nothing is pending any more.
	var expected map[string]string
	deadline := time.Now().Add(e.timeout)
	complete := false
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		expected, err = r.messageAddedEvents(qctx)
		_, pending := r.webhookStates(qctx)
		cancel()
		if err == nil && len(expected) >= len(acked) && pending == 0 && recv.holding() == 0 {
			complete = true
			for id := range expected {
				if recv.deliveredCopies(id) == 0 {
					complete = false
					break
				}
			}
		}
		if complete || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("read the event log: %w", err)
	}
	if !complete {
		res.Notes = append(res.Notes, fmt.Sprintf("the deliveries did not complete within %s", e.timeout))
	}
	stored, err := r.rowsByBody(ctx, "RECEIVED")
	if err != nil {
		return nil, fmt.Errorf("count received messages: %w", err)
	}
	states, _ := r.webhookStates(ctx)
	webhookTally(res, recv, bodies, acked, stored, expected)
	res.Fields = append(res.Fields, fmt.Sprintf("in-flight-at-kill=%d", inFlight))
	recv.mu.Lock()
	res.Fields = append(res.Fields, fmt.Sprintf("held=%d requests=%d", recv.stalled, recv.requests))
	if !recv.last.IsZero() {
		res.Fields = append(res.Fields, fmt.Sprintf("restart=%s all-delivered-after-kill=%s",
			upAt.Sub(killedAt).Round(100*time.Millisecond), recv.last.Sub(killedAt).Round(100*time.Millisecond)))
	}
	recv.mu.Unlock()
	res.Fields = append(res.Fields, inCodes.fields("in.")...)
	res.Notes = append(res.Notes, states)
	if inFlight == 0 {
		res.Failures = append(res.Failures, "the receiver held no delivery at the kill: nothing was in flight")
	}
	if r.srv.Died() {
		res.Failures = append(res.Failures, "the server died:\n"+r.srv.Tail.String())
	}
	return res, nil
}

// webhookTally counts the inbound messages (sent: acknowledged, stored) and their
// MESSAGE_ADDED deliveries against expected (webhook-id to text): once,
// duplicated, lost, and fails the result on any loss, a bad signature, or a
// delivery whose message is not the event's.
func webhookTally(res *result, recv *webhookReceiver, bodies []string, acked map[string]bool, stored map[string]int, expected map[string]string) {
	recv.mu.Lock()
	defer recv.mu.Unlock()
	evented := map[string]bool{}
	var lost, dup, wrong []string
	for id, body := range expected {
		evented[body] = true
		n := recv.delivered[id]
		switch {
		case n == 0:
			lost = append(lost, "event "+id+" ("+body+")")
		case n > 1:
			res.Dup++
			res.Extra += n - 1
			dup = append(dup, id)
		default:
			res.Once++
		}
		if n > 0 && (recv.content[id] != body || recv.kind[id] != "message.added") {
			wrong = append(wrong, fmt.Sprintf("event %s carried %s %q, want message.added %q", id, recv.kind[id], recv.content[id], body))
		}
	}
	for _, b := range bodies {
		if acked[b] {
			res.Sent++
		}
		res.Stored += stored[b]
		switch {
		case acked[b] && stored[b] == 0:
			lost = append(lost, "inbound not stored ("+b+")")
		case stored[b] > 0 && !evented[b]:
			lost = append(lost, "no MESSAGE_ADDED event ("+b+")")
		}
	}
	other := 0
	for id := range recv.delivered {
		if _, ok := expected[id]; !ok {
			other++
		}
	}
	res.Lost = len(lost)
	res.Fields = append(res.Fields, fmt.Sprintf("events=%d delivered=%d extra-copies=%d other=%d bad-signatures=%d",
		len(expected), res.Once+res.Dup, res.Extra, other, len(recv.badSig)))
	sort.Strings(dup)
	if len(lost) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d events never reached the receiver: %s", len(lost), sample(lost)))
	}
	if res.Dup > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d events reached the receiver more than once (%d extra copies; at-least-once allows it): %s", res.Dup, res.Extra, sample(dup)))
	}
	if len(recv.badSig) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d requests failed the signature check: %s", len(recv.badSig), sample(recv.badSig)))
	}
	if len(wrong) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d deliveries carried the wrong message: %s", len(wrong), sample(wrong)))
	}
}
