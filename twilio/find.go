package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AmbiguousError is a send whose outcome we cannot know: the request reached the
// provider (it was written whole), but no readable answer came back — a timeout, a
// connection cut after the request, an answer we cannot parse. The provider may
// have taken the message. Sending it again blindly risks a duplicate, so the sender
// first asks the provider (FindSent) whether it has the message.
type AmbiguousError struct{ Err error }

// Error implements error.
func (e *AmbiguousError) Error() string { return "twilio: outcome unknown: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *AmbiguousError) Unwrap() error { return e.Err }

// IsAmbiguous reports whether err leaves open whether the provider took the message.
func IsAmbiguous(err error) bool {
	var ae *AmbiguousError
	return errors.As(err, &ae)
}

// listPageSize is how many messages one page of the list asks for; Twilio allows
// up to 1000, and a contact's recent messages fit in one page almost always.
const listPageSize = 50

// maxListPages bounds the pages read by one FindSent: the messages sent to one
// contact since an attempt minutes or hours ago are few.
const maxListPages = 20

// Match is what identifies a message we may have sent among the provider's.
type Match struct {
	// From and To are the addresses the message went from and to ("whatsapp:+…").
	From, To string
	// Body is the text the provider shows for the message (for a template, the
	// rendered text).
	Body string
	// NumMedia is how many media items went with it.
	NumMedia int
	// Since is when the first attempt started; older messages are not ours.
	Since time.Time
}

// listed is one message of Twilio's Messages list.
type listed struct {
	SID         string          `json:"sid"`
	From        string          `json:"from"`
	To          string          `json:"to"`
	Body        string          `json:"body"`
	NumMedia    string          `json:"num_media"`
	Status      string          `json:"status"`
	DateCreated string          `json:"date_created"`
	ErrorCode   json.RawMessage `json:"error_code"`
}

// clockSlack allows for the provider's clock running behind ours.
const clockSlack = 2 * time.Minute

// FindSent lists the provider's messages matching m (same From, To, body and media
// count) created since m.Since (less a little clock slack), newest first; none when
// the provider does not have it. Several can match when the same text went to the
// same contact twice: the caller leaves out the sids it already knows. DateSent is
// empty until Twilio has sent, so the list is not filtered on it; it is read page
// by page until the messages are older than Since.
func (c *Client) FindSent(ctx context.Context, m Match) ([]*Result, error) {
	q := url.Values{}
	q.Set("From", m.From)
	q.Set("To", m.To)
	q.Set("PageSize", strconv.Itoa(listPageSize))
	next := "/2010-04-01/Accounts/" + url.PathEscape(c.accountSID) + "/Messages.json?" + q.Encode()
	cutoff := m.Since.Add(-clockSlack)
	var found []*Result
	for page := 0; next != "" && page < maxListPages; page++ {
		var answer struct {
			Messages    []listed `json:"messages"`
			NextPageURI string   `json:"next_page_uri"`
		}
		if err := c.get(ctx, next, &answer); err != nil {
			return nil, err
		}
		older := false
		for _, l := range answer.Messages {
			created, err := time.Parse(time.RFC1123Z, l.DateCreated)
			if err == nil && created.Before(cutoff) {
				older = true
				continue
			}
			n, _ := strconv.Atoi(l.NumMedia)
			if l.From == m.From && l.To == m.To && l.Body == m.Body && n == m.NumMedia {
				found = append(found, &Result{SID: l.SID, Status: l.Status, ErrorCode: rawCode(l.ErrorCode)})
			}
		}
		if older {
			break
		}
		next = answer.NextPageURI
	}
	return found, nil
}

// get reads one JSON answer of the API at path (relative to the base URL).
func (c *Client) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.accountSID, c.authToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: list: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("twilio: read list: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &Error{HTTPStatus: resp.StatusCode, Message: strings.TrimSpace(fmt.Sprintf("%.200s", body))}
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("twilio: unreadable list: %w", err)
	}
	return nil
}
