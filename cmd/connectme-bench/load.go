package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// A closed loop: each of conc workers sends a request, waits for the answer, checks
// it, and sends the next, until the time is up. The rate is whatever the server
// sustains at that concurrency; every latency is kept, so percentiles are exact.

// worker is one client connection of a load run. Its buffer and random source are
// its own, so workers share nothing on the hot path.
type worker struct {
	id  int
	rng *rand.Rand
	buf bytes.Buffer
}

// attempt is one request of a scenario: it sends, reads and checks the answer.
type attempt func(ctx context.Context, w *worker) error

// Stats summarises one timed run.
type Stats struct {
	Conc    int
	N       int
	Errors  int
	Elapsed time.Duration
	// lat holds every latency, sorted.
	lat []time.Duration
	// errs keeps the first few error messages.
	errs []string
}

// RPS is the rate of successful requests.
func (s *Stats) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.N-s.Errors) / s.Elapsed.Seconds()
}

// P returns the q-quantile (0 < q ≤ 1) of the latencies: the smallest latency that
// at least q of the requests did not exceed.
func (s *Stats) P(q float64) time.Duration {
	return quantile(s.lat, q)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ErrorText returns the first error messages, for the terminal.
func (s *Stats) ErrorText() string { return strings.Join(s.errs, "; ") }

// runLoad warms up, then measures fn from conc workers for dur. Errors during the
// warm-up count too: the run must be clean from the first request.
func runLoad(ctx context.Context, conc int, warmup, dur time.Duration, fn attempt) *Stats {
	return runLoadMarked(ctx, conc, warmup, dur, fn, nil)
}

// runLoadMarked is runLoad calling mark, when not nil, between the warm-up and the
// measured run.
func runLoadMarked(ctx context.Context, conc int, warmup, dur time.Duration, fn attempt, mark func()) *Stats {
	workers := make([]*worker, conc)
	for i := range workers {
		workers[i] = &worker{id: i, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))}
	}
	var warm *Stats
	if warmup > 0 {
		warm = loop(ctx, workers, warmup, fn)
	}
	if mark != nil {
		mark()
	}
	s := loop(ctx, workers, dur, fn)
	if warm != nil && warm.Errors > 0 {
		s.Errors += warm.Errors
		s.errs = append(warm.errs, s.errs...)
	}
	return s
}

func loop(ctx context.Context, workers []*worker, dur time.Duration, fn attempt) *Stats {
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	type part struct {
		lat  []time.Duration
		errs []string
		bad  int
	}
	parts := make([]part, len(workers))
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[i]
			p.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				err := fn(ctx, w)
				p.lat = append(p.lat, time.Since(t0))
				if err != nil && ctx.Err() == nil {
					p.bad++
					if len(p.errs) < 3 {
						p.errs = append(p.errs, err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	s := &Stats{Conc: len(workers), Elapsed: time.Since(start)}
	for _, p := range parts {
		s.lat = append(s.lat, p.lat...)
		s.Errors += p.bad
		if len(s.errs) < 3 {
			s.errs = append(s.errs, p.errs...)
		}
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.errs = append(s.errs, "interrupted")
	}
	s.N = len(s.lat)
	slices.Sort(s.lat)
	return s
}

// client is the HTTP side of the load: one keep-alive connection per worker, no
// compression, nothing the server would not see from a real client.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a request and reads the whole answer into buf.
func (c *client) do(ctx context.Context, buf *bytes.Buffer, method, path, contentType string, body []byte, header ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, buf.Bytes(), nil
}

// expect turns an unexpected status into an error that shows the answer.
func expect(status, want int, body []byte, err error) error {
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("HTTP %d (want %d): %.200s", status, want, body)
	}
	return nil
}

// gqlOK checks a GraphQL answer: HTTP 200 and no errors.
func gqlOK(status int, body []byte, err error) error {
	if err := expect(status, http.StatusOK, body, err); err != nil {
		return err
	}
	if bytes.Contains(body, []byte(`"errors":`)) {
		return fmt.Errorf("GraphQL errors: %.300s", body)
	}
	return nil
}

// runPaced sends fn at a fixed rate (an open loop) from up to conc workers for dur:
// a ticket every 1/rate, taken by a free worker. It shows what a load the machine
// can carry costs, where runLoad shows the most it can carry. Tickets that find no
// free worker wait, so a rate above capacity shows as a lower achieved rate.
func runPaced(ctx context.Context, conc int, rate float64, dur time.Duration, fn attempt) *Stats {
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	tickets := make(chan struct{}, conc)
	go func() {
		defer close(tickets)
		every := time.Duration(float64(time.Second) / rate)
		t := time.NewTicker(every)
		defer t.Stop()
		for end := time.Now().Add(dur); time.Now().Before(end); {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				select {
				case tickets <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var mu sync.Mutex
	s := &Stats{Conc: conc}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conc {
		w := &worker{id: i, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tickets {
				t0 := time.Now()
				err := fn(ctx, w)
				d := time.Since(t0)
				mu.Lock()
				s.lat = append(s.lat, d)
				if err != nil && ctx.Err() == nil {
					s.Errors++
					if len(s.errs) < 3 {
						s.errs = append(s.errs, err.Error())
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Elapsed = time.Since(start)
	s.N = len(s.lat)
	slices.Sort(s.lat)
	return s
}
