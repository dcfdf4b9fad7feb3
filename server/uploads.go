package server

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/rest"
)

// uploadRetryAfter is the Retry-After of an upload refused for the agent's cap: an
// upload in flight takes seconds to minutes.
const uploadRetryAfter = "10"

// limitUploads serves uploads (POST /media/save and GraphQL multipart) in a pool of
// their own: they stream large bodies at the client's pace, so they take no slot of
// MAX_CONCURRENT_REQUESTS, and each agent has at most max of them in flight on this
// instance (more: 429 with Retry-After). Only an agent uploads, so the pool is only
// for requests with a valid token; anonymous ones are ordinary requests, refused at
// once by their handlers. While its body arrives an upload is registered in reads,
// so that a shutdown does not wait for it past shutdownGrace. max <= 0 turns the
// per-agent cap off.
func limitUploads(max int, reads *bodyReads) func(http.Handler) http.Handler {
	pool := newCapped[int64](max)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isUpload(r) {
				next.ServeHTTP(w, r)
				return
			}
			p := auth.FromContext(r.Context())
			if p != nil && max > 0 {
				if !pool.acquire(p.UserID) {
					abandonBody(w)
					writeTooManyUploads(w, r, max)
					return
				}
				defer pool.release(p.UserID)
			}
			// connectionDeadlines has set the upload's read deadline.
			deadline := time.Now().Add(transferTimeout)
			if p == nil {
				deadline = time.Time{}
			}
			body := &trackedBody{ReadCloser: r.Body, reads: reads, read: reads.start(w, deadline)}
			defer body.finish()
			r.Body = body
			next.ServeHTTP(w, r)
			if !body.eof.Load() {
				// The handler answered without the whole body (refused it, or failed):
				// do not wait for the rest.
				abandonBody(w)
			}
		})
	}
}

// trackedBody is an upload's body, registered in bodyReads until it has been read
// to its end or its handler has returned.
type trackedBody struct {
	io.ReadCloser
	reads *bodyReads
	read  *bodyRead
	eof   atomic.Bool
	once  sync.Once
}

// Read implements io.Reader.
func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
		b.finish()
	}
	return n, err
}

// finish unregisters the body, once.
func (b *trackedBody) finish() {
	b.once.Do(func() { b.reads.done(b.read) })
}

// writeTooManyUploads answers 429 in the request's surface shape.
func writeTooManyUploads(w http.ResponseWriter, r *http.Request, max int) {
	msg := fmt.Sprintf("you have %d uploads in progress already; wait for one to finish", max)
	w.Header().Set("Retry-After", uploadRetryAfter)
	if r.URL.Path == "/graphql" {
		writeGraphQLError(w, http.StatusTooManyRequests, msg, "RATE_LIMITED")
		return
	}
	rest.WriteError(w, r, nil, apperr.New(apperr.RateLimited, "%s", msg))
}
