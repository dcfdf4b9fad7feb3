package media_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/media"
	"github.com/connectme/connectme/testkit"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "provider-auth-token"
)

// pngFile is a small PNG-headed body.
var pngFile = append(append([]byte{}, pngHead...), make([]byte, 2000)...)

// fetchEnv is a database, a store, a fake provider and a fetcher wired together.
type fetchEnv struct {
	db       *bun.DB
	store    *media.Store
	dir      string
	clock    *testkit.Clock
	fetcher  *media.Fetcher
	company  *db.Company
	provider *httptest.Server
	hits     sync.Map // path -> *atomic.Int32
}

// newFetchEnv starts a provider that serves every path with serve, after checking
// the basic auth credentials like Twilio does.
func newFetchEnv(t *testing.T, serve func(w http.ResponseWriter, r *http.Request)) *fetchEnv {
	t.Helper()
	e := &fetchEnv{db: testkit.DB(t), clock: &testkit.Clock{}}
	e.clock.Set(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e.store, e.dir = newStore(t)
	e.company = testkit.Company(t, e.db)
	e.provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := e.hits.LoadOrStore(r.URL.Path, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != testSID || p != testToken {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		serve(w, r)
	}))
	t.Cleanup(e.provider.Close)
	e.fetcher = &media.Fetcher{DB: e.db, Store: e.store, APIBase: e.provider.URL,
		AccountSID: testSID, AuthToken: testToken, Now: e.clock.Now, MaxAttempts: 3}
	return e
}

// pending records an inbound attachment as the webhook does, pointing at source.
func (e *fetchEnv) pending(t *testing.T, source string) *db.Attachment {
	t.Helper()
	a := &db.Attachment{CompanyID: e.company.ID, Type: db.AttachmentImage, ContentType: "image/jpeg",
		SourceURL: &source, State: db.AttachmentPending}
	if err := db.InsertAttachment(context.Background(), e.db, a); err != nil {
		t.Fatal(err)
	}
	// The webhook records it "now" by the database clock; the fetcher runs on ours.
	if _, err := e.db.NewRaw("UPDATE attachments SET next_fetch_at = ? WHERE id = ?", e.clock.Now(), a.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *fetchEnv) mediaURL(name string) string {
	return e.provider.URL + "/2010-04-01/Accounts/" + testSID + "/Messages/MM1/Media/" + name
}

func (e *fetchEnv) hitsOf(path string) int {
	n, ok := e.hits.Load(path)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int32).Load())
}

type fetchState struct {
	db.Attachment
	LastError *string `bun:"last_error"`
}

func (e *fetchEnv) reload(t *testing.T, id int64) *fetchState {
	t.Helper()
	var s fetchState
	if err := e.db.NewSelect().Model(&s).ModelTableExpr("attachments").Column("*").Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &s
}

func (e *fetchEnv) runOnce(t *testing.T) int {
	t.Helper()
	n, err := e.fetcher.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func TestFetcher_DownloadsWithProviderCredentialsAndStores(t *testing.T) {
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg") // what the provider says; the content decides
		_, _ = w.Write(pngFile)
	})
	a := e.pending(t, e.mediaURL("ME1"))
	if n := e.runOnce(t); n != 1 {
		t.Fatalf("claimed %d, want 1", n)
	}
	got := e.reload(t, a.ID)
	if got.State != db.AttachmentStored || got.StorageKey == nil || got.Type != db.AttachmentImage ||
		got.ContentType != "image/png" || got.Filesize != int64(len(pngFile)) || got.Attempts != 1 ||
		got.Filename != "file.png" {
		t.Fatalf("after fetch: %+v", got.Attachment)
	}
	f, err := e.store.Storage.Open(context.Background(), *got.StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != string(pngFile) {
		t.Error("stored bytes differ from the provider's")
	}
	if n := e.runOnce(t); n != 0 {
		t.Errorf("a stored attachment was claimed again (%d)", n)
	}
}

func TestFetcher_ProviderErrorsAreRetriedWithBackoffThenFailed(t *testing.T) {
	cases := []struct {
		name   string
		serve  func(w http.ResponseWriter, r *http.Request)
		badKey bool
		want   string
	}{
		{name: "404", serve: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, want: "404"},
		{name: "500", serve: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, want: "500"},
		{name: "wrong credentials", serve: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pngFile) }, badKey: true, want: "401"},
		{name: "empty body", serve: func(w http.ResponseWriter, r *http.Request) {}, want: "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newFetchEnv(t, tc.serve)
			if tc.badKey {
				e.fetcher.AuthToken = "wrong"
			}
			a := e.pending(t, e.mediaURL("ME2"))
			for attempt := 1; attempt <= 3; attempt++ {
				if n := e.runOnce(t); n != 1 {
					t.Fatalf("attempt %d: claimed %d, want 1", attempt, n)
				}
				got := e.reload(t, a.ID)
				if got.Attempts != attempt || got.LastError == nil || !strings.Contains(*got.LastError, tc.want) {
					t.Fatalf("attempt %d: attempts %d, last_error %v", attempt, got.Attempts, got.LastError)
				}
				if attempt < 3 {
					if got.State != db.AttachmentPending {
						t.Fatalf("attempt %d: state %s, want PENDING until the last attempt", attempt, got.State)
					}
					if n := e.runOnce(t); n != 0 {
						t.Fatalf("attempt %d: retried at once, before its backoff", attempt)
					}
					e.clock.Set(e.clock.Now().Add(media.DefaultBackoff(attempt)))
				} else if got.State != db.AttachmentFailed {
					t.Fatalf("after %d attempts: state %s, want FAILED", attempt, got.State)
				}
			}
			if h := e.hitsOf(strings.TrimPrefix(e.mediaURL("ME2"), e.provider.URL)); h != 3 {
				t.Errorf("provider asked %d times, want 3", h)
			}
			e.clock.Set(e.clock.Now().Add(24 * time.Hour))
			if n := e.runOnce(t); n != 0 {
				t.Error("a FAILED attachment was claimed again")
			}
			if got := files(t, e.dir); len(got) != 0 {
				t.Errorf("files left behind: %v", got)
			}
		})
	}
}

func TestFetcher_RefusedContentFailsAtOnce(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter, r *http.Request){
		"executable": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(elfHead) },
		"image over 5 MB": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, sized(pngHead, 5_000_001))
		},
	}
	for name, serve := range cases {
		t.Run(name, func(t *testing.T) {
			e := newFetchEnv(t, serve)
			a := e.pending(t, e.mediaURL("ME3"))
			e.runOnce(t)
			if got := e.reload(t, a.ID); got.State != db.AttachmentFailed || got.Attempts != 1 {
				t.Fatalf("state %s after %d attempts, want FAILED after 1", got.State, got.Attempts)
			}
			if got := files(t, e.dir); len(got) != 0 {
				t.Errorf("files left behind: %v", got)
			}
		})
	}
}

func TestFetcher_FetchesOnlyFromTheProvider(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write(pngFile)
	}))
	defer other.Close()
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pngFile) })
	for _, src := range []string{other.URL + "/internal/secret", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
		strings.Replace(e.provider.URL, "http://", "http://user:pass@", 1) + "/x", "not a url"} {
		a := e.pending(t, src)
		e.runOnce(t)
		if got := e.reload(t, a.ID); got.State != db.AttachmentFailed {
			t.Errorf("%s: state %s, want FAILED at once", src, got.State)
		}
	}
	if elsewhere.Load() != 0 {
		t.Error("the fetcher requested a URL that is not the provider's")
	}
}

func TestFetcher_ConcurrentWorkersFetchEachAttachmentOnce(t *testing.T) {
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		_, _ = w.Write(pngFile)
	})
	e.fetcher.Batch = 1
	var ids []int64
	for i := range 8 {
		ids = append(ids, e.pending(t, e.mediaURL("MEc"+string(rune('a'+i)))).ID)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				n, err := e.fetcher.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, id := range ids {
		if got := e.reload(t, id); got.State != db.AttachmentStored || got.Attempts != 1 {
			t.Errorf("attachment %d: %s after %d attempts", id, got.State, got.Attempts)
		}
		path := strings.TrimPrefix(e.mediaURL("MEc"+string(rune('a'+i))), e.provider.URL)
		if h := e.hitsOf(path); h != 1 {
			t.Errorf("%s fetched %d times, want once", path, h)
		}
	}
}

func TestFetcher_RunWorksUntilCancelled(t *testing.T) {
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pngFile) })
	e.fetcher.PollInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.fetcher.Run(ctx) }()
	a := e.pending(t, e.mediaURL("ME5"))
	deadline := time.Now().Add(10 * time.Second)
	for e.reload(t, a.ID).State != db.AttachmentStored {
		if time.Now().After(deadline) {
			t.Fatal("Run did not fetch the pending attachment")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop when its context ended")
	}
}

func TestFetcher_ShutdownHandsTheClaimBack(t *testing.T) {
	started := make(chan struct{})
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	a := e.pending(t, e.mediaURL("ME6"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := e.fetcher.RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	got := e.reload(t, a.ID)
	if got.State != db.AttachmentPending || got.Attempts != 0 {
		t.Fatalf("after an interrupted download: %s, attempts %d; want PENDING, 0", got.State, got.Attempts)
	}
}
