package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxOrdinaryBody bounds the body of an ordinary request: the largest any handler
// takes (REST's JSON bodies; GraphQL's are smaller, see maxGraphQLBody). Handlers
// still apply their own, smaller limits to the buffered body.
const maxOrdinaryBody = 1 << 20

// shutdownGrace is how long, once the server shuts down, a client still sending a
// body (an upload, a slow ordinary body) may go on: then the read is cut off, so
// the stop stays well inside the 25 s the binary gives http.Server.Shutdown.
var shutdownGrace = 5 * time.Second

// bodyReads are the requests whose bodies are still arriving. At shutdown their
// read deadlines are pulled in to shutdownGrace: http.Server.Shutdown waits for
// every active connection, and one client trickling an upload for 15 minutes would
// otherwise turn a clean stop into a failed one.
type bodyReads struct {
	mu      sync.Mutex
	reads   map[*bodyRead]struct{}
	closing bool
}

// bodyRead is one request whose body is arriving, and the read deadline it has.
type bodyRead struct {
	rc       *http.ResponseController
	deadline time.Time
}

// start registers a body read and sets its read deadline (zero: none), or an
// earlier one when the server is shutting down.
func (b *bodyReads) start(w http.ResponseWriter, deadline time.Time) *bodyRead {
	br := &bodyRead{rc: http.NewResponseController(w), deadline: deadline}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reads == nil {
		b.reads = map[*bodyRead]struct{}{}
	}
	b.reads[br] = struct{}{}
	if !deadline.IsZero() {
		_ = br.rc.SetReadDeadline(deadline)
	}
	if b.closing {
		br.cutOff(time.Now().Add(shutdownGrace))
	}
	return br
}

// done unregisters a body read; its deadline is no longer touched after it returns.
func (b *bodyReads) done(br *bodyRead) {
	b.mu.Lock()
	delete(b.reads, br)
	b.mu.Unlock()
}

// shutdown gives every body still arriving shutdownGrace to finish.
func (b *bodyReads) shutdown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closing = true
	end := time.Now().Add(shutdownGrace)
	for br := range b.reads {
		br.cutOff(end)
	}
}

// cutOff moves the read deadline to end unless it is earlier already. The caller
// holds the bodyReads' lock.
func (br *bodyRead) cutOff(end time.Time) {
	if br.deadline.IsZero() || end.Before(br.deadline) {
		br.deadline = end
		_ = br.rc.SetReadDeadline(end)
	}
}

// bufferBodies reads the body of an ordinary request (one that is not a websocket
// nor an upload) into memory, within timeout and the size limit, before the request
// goes on to take a concurrency slot. A slow client then holds a connection and the
// few bytes it has sent, never a slot, and a body that takes longer than timeout
// is a 408. Uploads stream (they are large) under their own pool: limitUploads.
func bufferBodies(timeout time.Duration, reads *bodyReads) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || isWebsocket(r) || isUpload(r) {
				next.ServeHTTP(w, r)
				return
			}
			limit := int64(maxOrdinaryBody)
			if r.URL.Path == "/graphql" {
				limit = maxGraphQLBody
			}
			if r.ContentLength > limit {
				abandonBody(w)
				writeTooLarge(w, r, limit)
				return
			}
			br := reads.start(w, time.Now().Add(timeout))
			var buf bytes.Buffer
			_, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
			reads.done(br)
			if err != nil {
				abandonBody(w)
				if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
					writeBodyTimeout(w, r, timeout)
					return
				}
				writeBodyError(w, r, http.StatusBadRequest, "the request body could not be read")
				return
			}
			if int64(buf.Len()) > limit {
				abandonBody(w)
				writeTooLarge(w, r, limit)
				return
			}
			// The body is in: the rest of the request is bounded by REQUEST_TIMEOUT,
			// not by a read deadline (which, once passed, would cancel the request's
			// context through net/http's background read).
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
			r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
			r.ContentLength = int64(buf.Len())
			next.ServeHTTP(w, r)
		})
	}
}

// abandonBody gives up on the rest of a request body: the connection closes after
// the answer, and net/http does not wait for the client to send what is left
// (it would otherwise read up to 256 KiB more, at the client's pace).
func abandonBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// writeBodyTimeout answers 408 for a body that did not arrive within timeout.
func writeBodyTimeout(w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	writeBodyError(w, r, http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within %s", timeout))
}

// writeTooLarge answers 413 for a body over limit.
func writeTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	writeBodyError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
}

// writeBodyError answers a request whose body could not be taken, in the error
// shape of its surface: GraphQL's on /graphql, NestJS's everywhere else.
func writeBodyError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.URL.Path == "/graphql" {
		writeGraphQLError(w, status, msg, "BAD_USER_INPUT")
		return
	}
	writeNestError(w, status, msg)
}

// writeNestError writes the NestJS error shape legacy clients parse.
func writeNestError(w http.ResponseWriter, status int, msg string) {
	text := http.StatusText(status)
	if status == http.StatusRequestEntityTooLarge {
		text = "Payload Too Large" // NestJS's phrase, as rest.WriteError writes it
	}
	b, _ := json.Marshal(struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
		Error      string `json:"error"`
	}{status, msg, text})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
