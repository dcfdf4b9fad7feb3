package webhooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLoggedBody is how much of a receiver's answer the delivery log keeps.
const MaxLoggedBody = 1024

// DefaultTimeout is how long a receiver has to answer.
const DefaultTimeout = 10 * time.Second

// Client posts webhooks.
type Client struct {
	// Policy decides which URLs and addresses are allowed.
	Policy Policy
	// Timeout bounds one attempt, from connect to the end of the answer's head.
	Timeout time.Duration
	http    *http.Client
}

// NewClient returns a client under policy with the given timeout (0: 10 s).
func NewClient(policy Policy, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		DialContext:           policy.Dialer().DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		// No proxy from the environment: the address rule must see the receiver.
		Proxy: nil,
	}
	return &Client{Policy: policy, Timeout: timeout, http: &http.Client{
		Transport: tr, Timeout: timeout,
		// A redirect is an answer like any other: 3xx is not 2xx, so a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Message is one webhook to post.
type Message struct {
	URL, Secret, ID string
	Timestamp       time.Time
	Body            []byte
}

// Result is what one attempt got: the HTTP status (0 when none came), the error
// (empty on 2xx), the start of the answer's body, and how long it took.
type Result struct {
	Status   int
	Err      string
	Body     string
	Duration time.Duration
}

// OK reports whether the receiver accepted the webhook (2xx).
func (r Result) OK() bool { return r.Err == "" && r.Status >= 200 && r.Status < 300 }

// Send posts m, signed, and reports the outcome.
func (c *Client) Send(ctx context.Context, m Message) Result {
	start := time.Now()
	res := c.send(ctx, m)
	res.Duration = time.Since(start)
	return res
}

func (c *Client) send(ctx context.Context, m Message) Result {
	sig, err := Sign(m.Secret, m.ID, m.Timestamp, m.Body)
	if err != nil {
		return Result{Err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: "bad url: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "CONNECTME-Webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(m.Timestamp.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := c.http.Do(req)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, ErrForbiddenAddress) {
			msg = "refused: " + ErrForbiddenAddress.Error()
		} else if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			msg = "timed out after " + c.Timeout.String()
		}
		return Result{Err: msg}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxLoggedBody))
	// Drain a little more so the connection can be reused; a longer body is cut.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	out := Result{Status: resp.StatusCode, Body: validUTF8(body)}
	if !out.OK() {
		out.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return out
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// validUTF8 returns b as text, cut back to whole characters (the cut at
// MaxLoggedBody may split one) and without invalid bytes.
func validUTF8(b []byte) string {
	for len(b) > 0 && !utf8.Valid(b) {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return strings.ReplaceAll(string(bytes.ToValidUTF8(b, []byte("\uFFFD"))), "\x00", "")
}
