package resolvers_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// pdfOf returns a PDF-headed file of exactly size bytes.
func pdfOf(size int) []byte {
	return append(bytes.Clone(pdfHead), make([]byte, size-len(pdfHead))...)
}

func withQuota(n int64) testkit.Option {
	return func(c *config.Config) { c.MediaQuotaPerCompany = n }
}

func usage(t *testing.T, app *testkit.App, companyID int64) int64 {
	t.Helper()
	n, err := db.CompanyMediaUsage(context.Background(), app.DB, companyID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Hardening item 9: past MEDIA_QUOTA_PER_COMPANY an upload is QUOTA_EXCEEDED and
// leaves no file; other companies and media that customers send are not affected.
func TestUploadMedia_OverTheCompanyQuotaIsRefused(t *testing.T) {
	const size = 10_000
	app := testkit.NewApp(t, withQuota(2*size+size/2))
	a, b := newTenant(t, app), newTenant(t, app)
	for i := range 2 {
		if res := uploadGraphQL(t, app, a.token, "a.pdf", pdfOf(size)); len(res.Errors) > 0 {
			t.Fatalf("upload %d under the quota: %+v", i, res.Errors)
		}
	}
	files := countFiles(t, app.Config.MediaDir)
	res := uploadGraphQL(t, app, a.token, "c.pdf", pdfOf(size))
	if res.Code() != "QUOTA_EXCEEDED" {
		t.Fatalf("third upload: code %q, errors %+v", res.Code(), res.Errors)
	}
	// A smaller file still fits.
	if _, err := app.Resolver.UploadMedia(as(a.company.ID), "small.pdf", bytes.NewReader(pdfOf(size/4))); err != nil {
		t.Fatalf("a file that fits: %v", err)
	}
	if _, err := app.Resolver.UploadMedia(as(a.company.ID), "next.pdf", bytes.NewReader(pdfOf(size/2))); apperr.CodeOf(err) != apperr.QuotaExceeded {
		t.Fatalf("upload over the quota: %v", err)
	}
	if n := countFiles(t, app.Config.MediaDir); n != files+1 {
		t.Errorf("%d files, want %d: a refused upload left its file", n, files+1)
	}
	// Another company has its own quota.
	if res := uploadGraphQL(t, app, b.token, "b.pdf", pdfOf(size)); len(res.Errors) > 0 {
		t.Errorf("another company's upload: %+v", res.Errors)
	}
	// What customers send is always recorded, quota or not.
	msg, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: "SMquota",
		From: "whatsapp:+94717936775", To: *a.company.WhatsAppNumber, ProfileName: "Nimal",
		Media: []resolvers.InboundMedia{{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", ContentType: "image/jpeg"}}})
	if err != nil {
		t.Fatalf("inbound media over the quota: %v", err)
	}
	var n int
	if err := app.DB.NewRaw("SELECT count(*) FROM attachments WHERE message_id = ?", msg.ID).Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("inbound attachments recorded: %d (%v)", n, err)
	}
}

// Concurrent uploads of one company are counted one after another: exactly as many
// as fit are stored, however they interleave.
func TestUploadMedia_ConcurrentUploadsDoNotOvershootTheQuota(t *testing.T) {
	const size, workers, fit = 20_000, 16, 3
	quota := int64(fit*size + size/2)
	app := testkit.NewApp(t, withQuota(quota))
	c := testkit.Company(t, app.DB)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			_, errs[i] = app.Resolver.UploadMedia(as(c.ID), "f.pdf", bytes.NewReader(pdfOf(size)))
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.CodeOf(err) != apperr.QuotaExceeded:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if used := usage(t, app, c.ID); ok != fit || used > quota {
		t.Errorf("%d uploads stored, %d bytes used; want %d stored, at most %d bytes", ok, used, fit, quota)
	}
	if n := countFiles(t, app.Config.MediaDir); n != fit {
		t.Errorf("%d files in storage, want %d", n, fit)
	}
}

// A file sent several times is stored once and counts once.
func TestCompanyMediaUsage_CountsEachStoredFileOnce(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	att, err := app.Resolver.UploadMedia(as(c.ID), "a.pdf", bytes.NewReader(pdfOf(5000)))
	if err != nil {
		t.Fatal(err)
	}
	conv := testkit.Conversation(t, app.DB, c.ID, ago(app, time.Hour))
	for i := range 3 {
		m := testkit.Message(t, app.DB, conv, db.DirectionSent, "brochure", ago(app, time.Duration(i)*time.Minute))
		cp := *att
		cp.ID, cp.MessageID = 0, &m.ID
		if err := db.InsertAttachment(t.Context(), app.DB, &cp); err != nil {
			t.Fatal(err)
		}
	}
	if used := usage(t, app, c.ID); used != 5000 {
		t.Errorf("usage %d, want 5000", used)
	}
}

// Uploads never sent are removed once a day old by the app's clock, rows first,
// then their files; sent ones, younger ones and files other rows hold are kept.
func TestPurgeUnattachedUploads_RemovesUploadsUnsentForADay(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	t0 := app.Clock.Now()
	upload := func(name string) *db.Attachment {
		t.Helper()
		a, err := app.Resolver.UploadMedia(as(c.ID), name, bytes.NewReader(pdfOf(1000)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	filePath := func(a *db.Attachment) string { return filepath.Join(app.Config.MediaDir, *a.StorageKey) }
	exists := func(a *db.Attachment) bool { _, err := os.Stat(filePath(a)); return err == nil }
	conv := testkit.Conversation(t, app.DB, c.ID, t0)
	link := func(a *db.Attachment) {
		t.Helper()
		m := testkit.Message(t, app.DB, conv, db.DirectionSent, a.Filename, t0)
		if _, err := app.DB.NewRaw("UPDATE attachments SET message_id = ? WHERE id = ?", m.ID, a.ID).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	stale := upload("stale.pdf")
	sent := upload("sent.pdf")
	link(sent)
	gone := upload("gone.pdf")
	if err := os.Remove(filePath(gone)); err != nil {
		t.Fatal(err)
	}
	// Its message was deleted, but a copy sent with another message holds its file.
	shared := upload("shared.pdf")
	cp := *shared
	cp.ID = 0
	if err := db.InsertAttachment(t.Context(), app.DB, &cp); err != nil {
		t.Fatal(err)
	}
	link(&cp)
	app.Clock.Set(t0.Add(23 * time.Hour))
	fresh := upload("fresh.pdf")

	if n, err := app.Resolver.PurgeUnattachedUploads(t.Context()); err != nil || n != 0 {
		t.Fatalf("purge before a day: %d, %v; want nothing removed", n, err)
	}
	app.Clock.Set(t0.Add(24*time.Hour + time.Minute))
	n, err := app.Resolver.PurgeUnattachedUploads(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("purge after a day: %d, %v; want 3 (stale, gone, shared)", n, err)
	}
	var left []int64
	if err := app.DB.NewRaw("SELECT id FROM attachments ORDER BY id").Scan(t.Context(), &left); err != nil {
		t.Fatal(err)
	}
	if want := []int64{sent.ID, cp.ID, fresh.ID}; !slices.Equal(left, want) {
		t.Errorf("attachments left %v, want %v", left, want)
	}
	if exists(stale) || !exists(sent) || !exists(shared) || !exists(fresh) {
		t.Errorf("files: stale %v sent %v shared %v fresh %v; want only stale gone",
			exists(stale), exists(sent), exists(shared), exists(fresh))
	}
	if n, err := app.Resolver.PurgeUnattachedUploads(t.Context()); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v", n, err)
	}
}
