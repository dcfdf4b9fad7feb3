package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// dbOutage sends messages and posts inbound webhooks at a steady pace while the
// private PostgreSQL is stopped (pg_ctl stop -m fast) for e.outage and started
// again. Whatever was acknowledged must be stored and, for sends, reach the
// provider; during the outage the answers should be 503 (try again), never another
// 5xx; and the server must recover by itself.
func dbOutage(ctx context.Context, e *env, outage time.Duration) (*result, error) {
	res := &result{Name: "db-outage"}
	r, err := newRig(ctx, e, res.Name, nil)
	if err != nil {
		return nil, err
	}
	defer r.close()

	const before, after = 2 * time.Second, 5 * time.Second
	total := before + outage + after
	outBodies, inBodies := r.bodies("out", e.n), r.bodies("in", e.n)
	const workers = 4
	interval := total * workers / time.Duration(e.n)

	var (
		mu                sync.Mutex
		ackedOut, ackedIn = map[string]bool{}, map[string]bool{}
		outCodes, inCodes codes
		attemptedOut      []string
		attemptedIn       []string
		next              int
		wg                sync.WaitGroup
	)
	stopLoad := make(chan struct{})
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-stopLoad:
			return 0, false
		default:
		}
		if next >= e.n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				i, ok := take()
				if !ok {
					return
				}
				c := r.tenant.contacts[i%len(r.tenant.contacts)]
				if w%2 == 0 {
					code, _ := r.api.send(ctx, c, outBodies[i])
					mu.Lock()
					attemptedOut = append(attemptedOut, outBodies[i])
					outCodes.add(code)
					ackedOut[outBodies[i]] = code == 200
					mu.Unlock()
				} else {
					code, _, _ := r.api.inbound(ctx, r.tenant, c.phone, inBodies[i], "SMin"+sidSafe(inBodies[i]))
					mu.Lock()
					attemptedIn = append(attemptedIn, inBodies[i])
					inCodes.add(code)
					ackedIn[inBodies[i]] = code == 201
					mu.Unlock()
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	time.Sleep(before)
	if err := e.cluster.stop(ctx); err != nil {
		close(stopLoad)
		wg.Wait()
		return nil, err
	}
	down := time.Now()
	time.Sleep(outage)
	if err := e.cluster.start(ctx); err != nil {
		close(stopLoad)
		wg.Wait()
		return nil, err
	}
	res.Fields = append(res.Fields, fmt.Sprintf("outage=%s", time.Since(down).Round(100*time.Millisecond)))
	time.Sleep(after)
	close(stopLoad)
	wg.Wait()

	// The server must answer ready again without a restart.
	if err := r.srv.WaitReady(ctx, r.srv.base, 30*time.Second); err != nil {
		res.Failures = append(res.Failures, "the server did not recover from the outage: "+err.Error())
	}
	res.Fields = append(res.Fields, outCodes.fields("out.")...)
	res.Fields = append(res.Fields, inCodes.fields("in.")...)
	if outCodes.C5xx > 0 || inCodes.C5xx > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d answers were a 5xx other than 503 during the outage", outCodes.C5xx+inCodes.C5xx))
	}
	if err := r.finish(ctx, res, attemptedOut, ackedOut); err != nil {
		return nil, err
	}

	storedIn, err := r.rowsByBody(ctx, "RECEIVED")
	if err != nil {
		return nil, fmt.Errorf("count received messages: %w", err)
	}
	var lostIn []string
	ghostIn := 0
	for _, b := range attemptedIn {
		if ackedIn[b] && storedIn[b] == 0 {
			lostIn = append(lostIn, b)
		}
		if !ackedIn[b] && storedIn[b] > 0 {
			ghostIn++
		}
	}
	res.Fields = append(res.Fields, fmt.Sprintf("in.stored=%d in.lost=%d in.stored-unacknowledged=%d", len(storedIn), len(lostIn), ghostIn))
	if len(lostIn) > 0 {
		res.Lost += len(lostIn)
		res.Failures = append(res.Failures, fmt.Sprintf("%d acknowledged inbound messages are not stored: %s", len(lostIn), sample(lostIn)))
	}
	return res, nil
}
