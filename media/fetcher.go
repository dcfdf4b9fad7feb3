package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/jobs"
)

// Fetcher downloads inbound media. The webhook records each media item of an inbound
// message as a PENDING attachment whose source_url is the provider's URL; the Fetcher
// claims due ones, downloads each with the provider's credentials into storage (with
// the same type and size rules as uploads) and marks it STORED. Failures are retried
// with exponential backoff; after MaxAttempts, or at once for content we refuse, the
// attachment is marked FAILED. Any number of instances may run one: it is a use of
// the background-work loop (package jobs), whose claims use FOR UPDATE SKIP LOCKED
// and a lease; a NOTIFY on db.MediaChannel wakes it through the events bus.
type Fetcher struct {
	// DB holds the attachments.
	DB *bun.DB
	// Bus wakes the fetcher on each NOTIFY of db.MediaChannel (the events bus); nil
	// polls only.
	Bus jobs.Waker
	// Store receives the files.
	Store *Store
	// Client makes the downloads; nil means one that also checks dialled addresses.
	Client *http.Client
	// APIBase is TWILIO_API_BASE. Only URLs on its scheme and host are fetched: the
	// credentials go nowhere else, and a forged webhook cannot make us fetch from
	// inside our network.
	APIBase string
	// AccountSID and AuthToken are sent as HTTP basic auth when both are set.
	AccountSID, AuthToken string
	// Log records failures; nil discards them.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PollInterval is the pause between looks for due attachments (default 2s).
	PollInterval time.Duration
	// MaxAttempts is how many downloads are tried before giving up (default 6).
	MaxAttempts int
	// Backoff returns the wait after the n-th failed attempt (default 30s·2^(n-1),
	// at most 30 min).
	Backoff func(attempt int) time.Duration
	// Timeout bounds one download (default 5 min); the claim's lease is twice that.
	Timeout time.Duration
	// Batch is how many downloads run at once (default 4); RunOnce claims that many.
	Batch int
}

// Run downloads due attachments until ctx ends, Batch at a time. While the database
// is unavailable it pauses, logging the outage once and its end once.
func (f *Fetcher) Run(ctx context.Context) {
	runner, err := jobs.New(jobs.Queue[*db.Attachment]{
		Name: "media fetcher", Claim: f.claim, Do: f.process,
		// A download may take Timeout; the lease outlasts it.
		Lease: 2 * f.timeout(), Workers: f.batch(), PollInterval: f.PollInterval,
		// Inbound media are not urgent: the provider keeps them for hours.
		OutageMin: 2 * time.Second, OutageMax: 30 * time.Second,
		Bus: f.Bus, Channel: db.MediaChannel, Log: f.log(),
	})
	if err != nil {
		f.log().ErrorContext(ctx, "media fetcher: not started", "err", err.Error())
		return
	}
	runner.Run(ctx)
}

// RunOnce claims one batch of due attachments and processes them one after the
// other (Run does the same work, concurrently). It returns how many it claimed.
func (f *Fetcher) RunOnce(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, jobs.DefaultClaimTimeout)
	atts, err := f.claim(cctx, f.batch(), 2*f.timeout())
	cancel()
	if err != nil {
		return 0, err
	}
	for _, a := range atts {
		f.process(ctx, a)
	}
	return len(atts), nil
}

// claim takes up to n due attachments, reserved for lease.
func (f *Fetcher) claim(ctx context.Context, n int, lease time.Duration) ([]*db.Attachment, error) {
	return db.ClaimPendingAttachments(ctx, f.DB, f.now(), lease, n)
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ error }

// Unwrap returns the failure itself.
func (e permanentError) Unwrap() error { return e.error }

// process downloads one claimed attachment and records the outcome.
func (f *Fetcher) process(ctx context.Context, a *db.Attachment) {
	err := f.download(ctx, a)
	if err == nil {
		return
	}
	// The outcome is recorded even when we are stopping, or the claim would only be
	// retried after its lease.
	wctx := context.WithoutCancel(ctx)
	log := f.log().With("attachment_id", a.ID, "attempt", a.Attempts)
	if ctx.Err() != nil {
		// Stopping is not the download's fault: give the attempt back for the next run.
		if err := db.ReleaseAttachmentClaim(wctx, f.DB, a.ID, f.now()); err != nil {
			log.ErrorContext(wctx, "media fetcher: release claim", "err", err.Error())
		}
		return
	}
	reason := err.Error()
	var perm permanentError
	if errors.As(err, &perm) || a.Attempts >= f.maxAttempts() {
		log.WarnContext(wctx, "media fetcher: giving up on inbound media", "err", reason)
		if err := db.FailAttachmentFetch(wctx, f.DB, a.ID, reason); err != nil {
			log.ErrorContext(wctx, "media fetcher: record failure", "err", err.Error())
		}
		return
	}
	next := f.now().Add(f.backoff(a.Attempts))
	log.InfoContext(wctx, "media fetcher: download failed; will retry", "err", reason, "next", next)
	if err := db.RetryAttachmentFetch(wctx, f.DB, a.ID, next, reason); err != nil {
		log.ErrorContext(wctx, "media fetcher: schedule retry", "err", err.Error())
	}
}

// download fetches one attachment's source into storage and marks it STORED.
func (f *Fetcher) download(ctx context.Context, a *db.Attachment) error {
	if a.SourceURL == nil || !f.allowed(*a.SourceURL) {
		return permanentError{errors.New("source URL is not the provider's")}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *a.SourceURL, nil)
	if err != nil {
		return permanentError{fmt.Errorf("bad source URL: %w", err)}
	}
	if f.AccountSID != "" && f.AuthToken != "" {
		// Sent to the provider's origin only (fetchclient.go): Twilio redirects media
		// to a storage URL that must not see our credentials.
		req.SetBasicAuth(f.AccountSID, f.AuthToken)
	}
	resp, err := f.httpClient().Do(req) // redirect and address rules: fetchclient.go
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("provider answered %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxDocument {
		return permanentError{&TooLargeError{Type: db.AttachmentDocument, Limit: MaxDocument}}
	}
	saved, err := f.Store.Save(ctx, resp.Body)
	if err != nil {
		var refused *RefusedError
		var tooLarge *TooLargeError
		if errors.As(err, &refused) || errors.As(err, &tooLarge) {
			return permanentError{err}
		}
		return err
	}
	stored, err := db.MarkAttachmentStored(ctx, f.DB, a.ID, db.StoredFile{
		Key: saved.Key, Size: saved.Size, ContentType: saved.ContentType, Type: saved.Type,
		Filename: CleanFilename("", saved.Extension)})
	if err != nil || !stored {
		// Nothing points at the copy: drop it.
		_ = f.Store.Storage.Delete(context.WithoutCancel(ctx), saved.Key)
	}
	return err
}

// allowed reports whether raw is on the provider's scheme and host.
func (f *Fetcher) allowed(raw string) bool {
	base, err := url.Parse(f.APIBase)
	if err != nil || base.Host == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == base.Scheme && strings.EqualFold(u.Host, base.Host) && u.User == nil
}

func (f *Fetcher) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

func (f *Fetcher) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}

func (f *Fetcher) maxAttempts() int {
	if f.MaxAttempts <= 0 {
		return 6
	}
	return f.MaxAttempts
}

func (f *Fetcher) backoff(attempt int) time.Duration {
	if f.Backoff != nil {
		return f.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

// DefaultBackoff is 30s after the first failed attempt, doubling each time, at most
// 30 minutes.
func DefaultBackoff(attempt int) time.Duration {
	return jobs.Backoff{Base: 30 * time.Second, Max: 30 * time.Minute}.Delay(attempt)
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout <= 0 {
		return 5 * time.Minute
	}
	return f.Timeout
}

func (f *Fetcher) batch() int {
	if f.Batch <= 0 {
		return 4
	}
	return f.Batch
}
