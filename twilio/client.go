// Package twilio talks to Twilio's Programmable Messaging API: it sends WhatsApp
// messages (free text, media, or approved templates by ContentSid).
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one API call; a send that hangs longer is retried later.
const DefaultTimeout = 15 * time.Second

// maxAnswer caps how much of an answer we read: Twilio's are a few kB.
const maxAnswer = 1 << 20

// Message is one outbound message in Twilio's vocabulary.
type Message struct {
	// From is the company's sender, "whatsapp:+…".
	From string
	// To is the contact, "whatsapp:+<E.164>".
	To string
	// Body is the text; ignored when ContentSID is set.
	Body string
	// MediaURLs are absolute URLs Twilio fetches the media from.
	MediaURLs []string
	// StatusCallback is where Twilio reports the message's progress.
	StatusCallback string
	// ContentSID is an approved template ("HX…"); when set it replaces Body, which
	// WhatsApp refuses for templates (error 63016).
	ContentSID string
	// ContentVariables are the template's parameters, {{1}} first.
	ContentVariables []string
}

// Result is Twilio's answer to an accepted message.
type Result struct {
	// SID is the message's id at Twilio ("SM…"); status callbacks carry it.
	SID string
	// Status is Twilio's status as answered (queued, accepted, sent, failed, …).
	Status string
	// ErrorCode is Twilio's error code when Status is failed or undelivered.
	ErrorCode string
}

// Error is an API call Twilio answered with an error status.
type Error struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// Code is Twilio's error code (21211 for an invalid To number), 0 if none.
	Code int
	// Message is Twilio's explanation.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("twilio: %d %s (HTTP %d)", e.Code, e.Message, e.HTTPStatus)
	}
	return fmt.Sprintf("twilio: HTTP %d %s", e.HTTPStatus, e.Message)
}

// Permanent reports whether sending the same message again cannot succeed: a 4xx
// answer is the message's fault, while 429 and 5xx are Twilio's momentary trouble.
// 401 is temporary too: bad or freshly rotated credentials are the account's
// problem, fixed by an operator, and must not fail every message sent meanwhile.
func (e *Error) Permanent() bool {
	return e.HTTPStatus >= 400 && e.HTTPStatus < 500 &&
		e.HTTPStatus != http.StatusTooManyRequests && e.HTTPStatus != http.StatusUnauthorized
}

// IsPermanent reports whether err is an answer that retrying cannot change. Network
// errors, timeouts, 401, 429 and 5xx are temporary.
func IsPermanent(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Permanent()
}

// Client calls Twilio's Messages API with one account's credentials.
type Client struct {
	accountSID string
	authToken  string
	baseURL    string
	http       *http.Client
}

// NewClient returns a client for the account; baseURL is TWILIO_API_BASE
// ("https://api.twilio.com", or a fake provider in tests).
func NewClient(accountSID, authToken, baseURL string) *Client {
	// Every call goes to one host: keep enough idle connections for all the
	// delivery workers, not net/http's default of 2, or each burst redials TLS.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	return &Client{
		accountSID: accountSID,
		authToken:  authToken,
		baseURL:    strings.TrimRight(baseURL, "/"),
		http:       &http.Client{Timeout: DefaultTimeout, Transport: transport},
	}
}

// Send creates the message at Twilio. Errors are *Error for answers Twilio gave;
// anything else (network, timeout, unreadable answer) is temporary.
func (c *Client) Send(ctx context.Context, m *Message) (*Result, error) {
	form := url.Values{}
	form.Set("From", m.From)
	form.Set("To", m.To)
	if m.ContentSID != "" {
		form.Set("ContentSid", m.ContentSID)
		if len(m.ContentVariables) > 0 {
			vars := make(map[string]string, len(m.ContentVariables))
			for i, v := range m.ContentVariables {
				vars[strconv.Itoa(i+1)] = v
			}
			b, err := json.Marshal(vars)
			if err != nil {
				return nil, err
			}
			form.Set("ContentVariables", string(b))
		}
	} else if m.Body != "" {
		form.Set("Body", m.Body)
	}
	for _, u := range m.MediaURLs {
		form.Add("MediaUrl", u)
	}
	if m.StatusCallback != "" {
		form.Set("StatusCallback", m.StatusCallback)
	}

	endpoint := c.baseURL + "/2010-04-01/Accounts/" + url.PathEscape(c.accountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.accountSID, c.authToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Once the request is written whole, the provider may have the message whatever
	// happens next: such failures are ambiguous, not plainly temporary.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("twilio: send: %w", err)
		if wrote.Load() {
			return nil, &AmbiguousError{Err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &AmbiguousError{Err: fmt.Errorf("twilio: read answer: %w", err)}
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, errorOf(resp.StatusCode, body)
	}
	var answer struct {
		SID       string          `json:"sid"`
		Status    string          `json:"status"`
		ErrorCode json.RawMessage `json:"error_code"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.SID == "" {
		// Twilio took the message but we cannot tell its id: retrying may send it
		// twice, yet giving up would lose it for sure; the sender asks first.
		return nil, &AmbiguousError{Err: fmt.Errorf("twilio: unreadable answer (HTTP %d): %.200s", resp.StatusCode, body)}
	}
	return &Result{SID: answer.SID, Status: answer.Status, ErrorCode: rawCode(answer.ErrorCode)}, nil
}

// rawCode turns Twilio's error_code (a number, a string or null) into text.
func rawCode(raw json.RawMessage) string {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "null" {
		return ""
	}
	return s
}

// errorOf is Twilio's error answer (status and body) as an *Error: its code and
// message when the body carries them, else the status text.
func errorOf(status int, body []byte) *Error {
	e := &Error{HTTPStatus: status}
	var answer struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) == nil {
		e.Code, e.Message = answer.Code, answer.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
