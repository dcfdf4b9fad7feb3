package testkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
)

// ContentAPI is a fake of Twilio's Content API (GET /v1/ContentAndApprovals): it
// answers the contents it holds, PageSize to a page (meta.next_page_url), to the
// account's basic auth only.
type ContentAPI struct {
	*httptest.Server
	// PageSize is how many contents a page holds (2 unless set).
	PageSize int
	// Delay is how long each page takes to answer.
	Delay time.Duration

	mu       sync.Mutex
	contents []map[string]any
	// Requests counts the pages asked for; InFlight and MaxInFlight the listings
	// being read at once.
	Requests, InFlight, MaxInFlight atomic.Int32
}

// ContentAPIAccount is the account the fake accepts.
const ContentAPIAccount, ContentAPIToken = "ACtest", "content-api-token"

// NewContentAPI starts a fake Content API.
func NewContentAPI(t testing.TB) *ContentAPI {
	t.Helper()
	f := &ContentAPI{PageSize: 2}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Set replaces the account's contents.
func (f *ContentAPI) Set(contents ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.contents = contents
}

// Content is a content of the fake's shape: a twilio/text body, sample variables
// and a WhatsApp approval status ("" for none).
func Content(sid, name, body, status string, variables ...string) map[string]any {
	vars := map[string]any{}
	for i, v := range variables {
		vars[strconv.Itoa(i+1)] = v
	}
	c := map[string]any{"sid": sid, "account_sid": ContentAPIAccount, "friendly_name": name, "language": "en",
		"variables": vars, "types": map[string]any{"twilio/text": map[string]any{"body": body}},
		"date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z"}
	if status != "" {
		c["approval_requests"] = map[string]any{"name": name, "category": "UTILITY", "status": status,
			"content_type": "twilio/text", "rejection_reason": ""}
	}
	return c
}

// WithContentAPI points an app at the fake with the account's credentials.
func WithContentAPI(f *ContentAPI) Option {
	return func(c *config.Config) {
		c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioContentAPIBase = ContentAPIAccount, ContentAPIToken, f.URL
	}
}

func (f *ContentAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.Requests.Add(1)
	n := f.InFlight.Add(1)
	defer f.InFlight.Add(-1)
	for m := f.MaxInFlight.Load(); n > m && !f.MaxInFlight.CompareAndSwap(m, n); m = f.MaxInFlight.Load() {
	}
	time.Sleep(f.Delay)
	if u, p, ok := r.BasicAuth(); !ok || u != ContentAPIAccount || p != ContentAPIToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/v1/ContentAndApprovals" {
		http.NotFound(w, r)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("Page"))
	f.mu.Lock()
	all := f.contents
	f.mu.Unlock()
	from := min(page*f.PageSize, len(all))
	to := min(from+f.PageSize, len(all))
	var next any
	if to < len(all) {
		next = fmt.Sprintf("%s/v1/ContentAndApprovals?PageSize=%d&Page=%d&PageToken=PT%d", f.URL, f.PageSize, page+1, to)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"contents": append([]map[string]any{}, all[from:to]...),
		"meta": map[string]any{"page": page, "page_size": f.PageSize, "key": "contents",
			"first_page_url": f.URL + "/v1/ContentAndApprovals?PageSize=2&Page=0", "previous_page_url": nil,
			"url": f.URL + r.URL.RequestURI(), "next_page_url": next},
	})
}
