package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// slowSettings shape the slow-clients experiment.
type slowSettings struct {
	// Conns is how many connections trickle a request body.
	Conns int
	// MaxConcurrent is the server's MAX_CONCURRENT_REQUESTS.
	MaxConcurrent int
	// Every is the pause between two trickled bytes.
	Every time.Duration
	// For is how long the trickle and the measured requests go on.
	For time.Duration
}

// slowClients opens Conns connections that each announce a 1000-byte POST /message
// body and send it one byte every Every, while an ordinary client makes requests
// (GET /template, then a send) every 100 ms. It counts how many of the ordinary
// requests were answered 503 or not at all: the slow bodies must not starve them.
func slowClients(ctx context.Context, e *env, s slowSettings) (*result, error) {
	res := &result{Name: "slow-clients"}
	r, err := newRig(ctx, e, res.Name, nil, fmt.Sprintf("MAX_CONCURRENT_REQUESTS=%d", s.MaxConcurrent))
	if err != nil {
		return nil, err
	}
	defer r.close()

	addr := strings.TrimPrefix(r.srv.base, "http://")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	opened := 0
	for range s.Conns {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			res.Notes = append(res.Notes, "dial: "+err.Error())
			continue
		}
		opened++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			fmt.Fprintf(conn, "POST /message HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr, r.api.token)
			tick := time.NewTicker(s.Every)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := conn.Write([]byte(" ")); err != nil {
						return // the server hung up on us: what it should do
					}
				}
			}
		}()
	}
	// Let the slow requests take whatever they take before measuring.
	time.Sleep(500 * time.Millisecond)

	var normal codes
	sent := 0
	var attempted []string
	acked := map[string]bool{}
	client := &apiClient{base: r.api.base, token: r.api.token, authToken: r.api.authToken,
		http: &http.Client{Timeout: 5 * time.Second}}
	end := time.Now().Add(s.For)
	for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
		var code int
		if i%2 == 0 {
			code, _, _ = client.call(ctx, http.MethodGet, "/template", "", nil, nil)
		} else {
			body := fmt.Sprintf("chaos slow-clients out %d seed %d", i, e.seed)
			code, _ = client.send(ctx, r.tenant.contacts[i%len(r.tenant.contacts)], body)
			attempted = append(attempted, body)
			acked[body] = code == http.StatusOK
		}
		normal.add(code)
		sent++
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	res.Fields = append(res.Fields, fmt.Sprintf("trickling=%d max_concurrent=%d normal=%d", opened, s.MaxConcurrent, sent))
	res.Fields = append(res.Fields, normal.fields("normal.")...)
	if normal.C503+normal.None+normal.C5xx > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of %d ordinary requests were refused or unanswered while %d clients trickled bodies",
			normal.C503+normal.None+normal.C5xx, sent, opened))
	}
	if err := r.finish(ctx, res, attempted, acked); err != nil {
		return nil, err
	}
	return res, nil
}
