package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// flakyProvider sends n messages while the provider fails (500, 429), stalls past
// our timeout and cuts connections after taking the message. Failures must be
// retried until taken (nothing lost); a stall or a cut is an ambiguous outcome,
// and sending again after one is a duplicate.
func flakyProvider(ctx context.Context, e *env) (*result, error) {
	res := &result{Name: "flaky-provider"}
	r, err := newRig(ctx, e, res.Name, randomPlan(e.seed, 8, 4, 3, 8))
	if err != nil {
		return nil, err
	}
	defer r.close()
	bodies := r.bodies("out", e.n)
	acked, cs := r.sendAll(ctx, bodies, 8, nil)
	res.Fields = append(res.Fields, cs.fields("api.")...)
	if err := r.finish(ctx, res, bodies, acked); err != nil {
		return nil, err
	}
	return res, nil
}

// kill9 sends n messages and, a third of the way, kills the server with SIGKILL
// while the provider holds deliveries in hand (it answers after 300 ms), then
// restarts it. The killed process's claims come back when their lease (1 min) runs
// out; the messages the provider took but whose answer died with the process are
// ambiguous outcomes.
func kill9(ctx context.Context, e *env) (*result, error) {
	res := &result{Name: "kill-9"}
	r, err := newRig(ctx, e, res.Name, nil)
	if err != nil {
		return nil, err
	}
	defer func() { r.close() }()
	r.prov.setLatency(300 * time.Millisecond)

	var (
		mu        sync.Mutex
		ackedN    int
		killed    bool
		restarted = make(chan struct{})
		inFlight  int
		restartEr error
	)
	strike := func() {
		// Strike while the provider has sends in hand.
		for deadline := time.Now().Add(3 * time.Second); r.prov.busy() == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		inFlight = r.prov.busy()
		r.srv.Kill()
		srv, err := r.srv.restart(ctx)
		if err != nil {
			restartEr = err
		} else {
			r.srv = srv
		}
		close(restarted)
	}
	after := func(i, code int) {
		mu.Lock()
		if code == 200 {
			ackedN++
		}
		strikeNow := !killed && ackedN >= e.n/3
		if strikeNow {
			killed = true
		}
		mu.Unlock()
		if strikeNow {
			strike()
		} else if code == 0 && killed {
			// Down: wait for the restart rather than burn the remaining sends.
			<-restarted
		}
	}
	bodies := r.bodies("out", e.n)
	acked, cs := r.sendAll(ctx, bodies, 8, after)
	if restartEr != nil {
		return nil, fmt.Errorf("restart after kill -9: %w", restartEr)
	}
	res.Fields = append(res.Fields, fmt.Sprintf("in-flight-at-kill=%d", inFlight))
	res.Fields = append(res.Fields, cs.fields("api.")...)
	if err := r.finish(ctx, res, bodies, acked); err != nil {
		return nil, err
	}
	return res, nil
}
