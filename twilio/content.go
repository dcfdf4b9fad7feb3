package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// DefaultContentAPIBase is Twilio's Content API.
const DefaultContentAPIBase = "https://content.twilio.com"

// maxContentPages bounds one listing: at 500 a page, far more templates than an
// account has; a provider that pages forever cannot hold a sync for ever.
const maxContentPages = 200

// maxContentAnswer caps one page of the listing (500 templates with their types).
const maxContentAnswer = 16 << 20

// Content is one template of the account with its WhatsApp approval, from
// GET /v1/ContentAndApprovals.
type Content struct {
	// SID is the content id ("HX…"), what a send names as ContentSid.
	SID          string `json:"sid"`
	FriendlyName string `json:"friendly_name"`
	Language     string `json:"language"`
	// Variables are the placeholders' sample values, by placeholder name ("1").
	Variables map[string]any `json:"variables"`
	// Types holds the content by type ("twilio/text": {"body": …}, …).
	Types            map[string]json.RawMessage `json:"types"`
	ApprovalRequests *ContentApproval           `json:"approval_requests"`
}

// ContentApproval is a content's WhatsApp approval request.
type ContentApproval struct {
	// Name is the template name registered with WhatsApp.
	Name string `json:"name"`
	// Category is WhatsApp's (UTILITY, MARKETING, AUTHENTICATION).
	Category string `json:"category"`
	// Status is approved, pending, received, rejected, paused, disabled or
	// unsubmitted.
	Status string `json:"status"`
}

// Body is the content's text: the body of twilio/text when it has one, else the
// first body (or card title) among its types, by type name.
func (c *Content) Body() string {
	names := make([]string, 0, len(c.Types))
	for n := range c.Types {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "twilio/text") != (names[j] == "twilio/text") {
			return names[i] == "twilio/text"
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		var t struct {
			Body  string `json:"body"`
			Title string `json:"title"`
		}
		if json.Unmarshal(c.Types[n], &t) != nil {
			continue
		}
		if t.Body != "" {
			return t.Body
		}
		if t.Title != "" {
			return t.Title
		}
	}
	return ""
}

// VariableValues are the sample values of the variables, {{1}} first (numeric
// names in order, then any others by name).
func (c *Content) VariableValues() []string {
	names := make([]string, 0, len(c.Variables))
	for n := range c.Variables {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, errA := strconv.Atoi(names[i])
		b, errB := strconv.Atoi(names[j])
		switch {
		case errA == nil && errB == nil:
			return a < b
		case (errA == nil) != (errB == nil):
			return errA == nil
		}
		return names[i] < names[j]
	})
	out := make([]string, len(names))
	for i, n := range names {
		switch v := c.Variables[n].(type) {
		case string:
			out[i] = v
		case nil:
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// ContentClient reads the account's templates from the Content API.
type ContentClient struct {
	AccountSID, AuthToken string
	// BaseURL is TWILIO_CONTENT_API_BASE (DefaultContentAPIBase, or a fake in tests).
	BaseURL string
	// HTTP is the client used; nil is one with DefaultTimeout.
	HTTP *http.Client
}

// ListContent returns every template of the account with its approval, reading all
// the pages (meta.next_page_url). A next page on another host than BaseURL is an
// error: the credentials go only to the configured API.
func (c *ContentClient) ListContent(ctx context.Context) ([]Content, error) {
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("twilio content: bad base URL %q", c.BaseURL)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	next := base.JoinPath("/v1/ContentAndApprovals")
	next.RawQuery = "PageSize=500"
	seen := map[string]bool{}
	var out []Content
	for page := 0; ; page++ {
		if page == maxContentPages || seen[next.String()] {
			return nil, errors.New("twilio content: the listing does not end")
		}
		seen[next.String()] = true
		var answer struct {
			Contents []Content `json:"contents"`
			Meta     struct {
				NextPageURL *string `json:"next_page_url"`
			} `json:"meta"`
		}
		if err := c.getPage(ctx, hc, next.String(), &answer); err != nil {
			return nil, err
		}
		out = append(out, answer.Contents...)
		if answer.Meta.NextPageURL == nil || *answer.Meta.NextPageURL == "" {
			return out, nil
		}
		u, err := base.Parse(*answer.Meta.NextPageURL)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
			return nil, fmt.Errorf("twilio content: refusing a next page outside %s: %q", base.Host, *answer.Meta.NextPageURL)
		}
		next = u
	}
}

func (c *ContentClient) getPage(ctx context.Context, hc *http.Client, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("twilio content: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxContentAnswer))
	if err != nil {
		return fmt.Errorf("twilio content: read: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorOf(resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("twilio content: unreadable page: %w", err)
	}
	return nil
}
