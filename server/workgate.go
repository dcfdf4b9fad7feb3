package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/connectme/connectme/internal/workgate"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/server/playground"
)

// gateWork lets places reads work at once and queues the others in arrival order
// (workgate), within their REQUEST_TIMEOUT: one whose turn does not come in time is
// answered 503 like a request over MAX_CONCURRENT_REQUESTS. Reads are REST's GETs
// and GraphQL's queries, which take their turn once parsed (execute, from the gate
// this puts in the context). Writes do not queue: measured, queueing them cost
// sending (POST /message) 15 % of its rate, its time being PostgreSQL's commits
// beside the delivery workers rather than the server's CPU, and a mutation may wait
// on a provider (syncTemplates) which must not hold a place. Probes, downloads
// (paced by their client) and websockets do not queue either.
//
// A read gives its place back once its answer is made, before the answer is sent
// (bufferedAnswer; execute for GraphQL): a client that reads its answers slowly, or
// not at all, holds a connection, never a place. places <= 0 turns the gate off.
func gateWork(places int, maxWait time.Duration, m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if places <= 0 {
			return next
		}
		g := workgate.New(places)
		g.Refused = m.RequestShed
		// A GraphQL query sent as a multipart upload has no REQUEST_TIMEOUT; its
		// turn is still awaited no longer than any other read's.
		g.MaxWait = maxWait
		g.Turns = m.ReadTurn
		m.WatchWaiting(g.Waiting)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/graphql":
				next.ServeHTTP(w, r.WithContext(workgate.WithGate(r.Context(), g)))
				return
			case r.Method != http.MethodGet && r.Method != http.MethodHead || isWebsocket(r) || isProbe(r) || isDownload(r) ||
				strings.HasPrefix(r.URL.Path, playground.Path): // static files, some large
				next.ServeHTTP(w, r)
				return
			}
			leave, err := g.Take(r.Context())
			if err != nil {
				writeUnavailable(w, r, busy)
				return
			}
			b := answers.Get().(*bufferedAnswer)
			b.header, b.status = w.Header(), 0
			left := false
			defer func() {
				if !left { // the handler panicked: the recoverer answers
					leave()
				}
				b.header = nil
				if b.body.Cap() <= maxPooledAnswer {
					b.body.Reset()
					answers.Put(b)
				}
			}()
			next.ServeHTTP(b, r)
			left = true
			leave()
			b.send(w)
		})
	}
}

// bufferedAnswer keeps a REST read's answer in memory until its place is given
// back. Its headers are the real writer's.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var answers = sync.Pool{New: func() any { return new(bufferedAnswer) }}

// maxPooledAnswer is the largest buffer kept for the next answer; a rare large one
// (the OpenAPI document is 56 KB) is left to the collector.
const maxPooledAnswer = 256 << 10

func (b *bufferedAnswer) Header() http.Header { return b.header }

func (b *bufferedAnswer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedAnswer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// send writes the answer, with its length when it has a body.
func (b *bufferedAnswer) send(w http.ResponseWriter) {
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	if b.body.Len() > 0 && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.body.Bytes())
}
