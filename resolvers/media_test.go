package resolvers_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

var pdfHead = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")

// as returns a context in which an agent of company is calling.
func as(companyID int64) context.Context {
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 1, CompanyID: companyID, Role: db.RoleAgent})
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestUploadMedia_RecordsACleanStoredAttachmentOfTheCompany(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	att, err := app.Resolver.UploadMedia(as(c.ID), "../../tmp/\x00Q3 report.pdf", bytes.NewReader(pdfHead))
	if err != nil {
		t.Fatal(err)
	}
	if att.ID == 0 || att.CompanyID != c.ID || att.Type != db.AttachmentDocument || att.Filename != "Q3 report.pdf" ||
		att.State != db.AttachmentStored || att.StorageKey == nil || att.Filesize != int64(len(pdfHead)) ||
		att.ContentType != "application/pdf" || att.MessageID != nil {
		t.Fatalf("attachment %+v", att)
	}
	if _, err := app.Resolver.UploadMedia(context.Background(), "a.pdf", bytes.NewReader(pdfHead)); apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Errorf("anonymous upload: %v", err)
	}
}

func TestUploadMedia_ErrorsAreApplicationErrors(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	cases := []struct {
		name    string
		content []byte
		want    apperr.Code
	}{
		{"empty", nil, apperr.Invalid},
		{"executable", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), apperr.Invalid},
		{"image over 5 MB", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 5_000_000)...), apperr.TooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.Resolver.UploadMedia(as(c.ID), "x.jpg", bytes.NewReader(tc.content))
			if apperr.CodeOf(err) != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
	if n := countFiles(t, app.Config.MediaDir); n != 0 {
		t.Errorf("%d files left behind", n)
	}
}

func TestUploadMedia_FileIsRemovedWhenTheRowCannotBeWritten(t *testing.T) {
	app := testkit.NewApp(t)
	// A token of a company that no longer exists: the insert fails on its foreign key.
	if _, err := app.Resolver.UploadMedia(as(999_999), "a.pdf", bytes.NewReader(pdfHead)); err == nil {
		t.Fatal("upload for a missing company succeeded")
	}
	if n := countFiles(t, app.Config.MediaDir); n != 0 {
		t.Errorf("%d orphan files left behind", n)
	}
}

func TestAttachmentForSend_OnlyTheCompanysOwn(t *testing.T) {
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	other := testkit.Company(t, app.DB)
	mine, err := app.Resolver.UploadMedia(as(c.ID), "a.pdf", bytes.NewReader(pdfHead))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := app.Resolver.UploadMedia(as(other.ID), "b.pdf", bytes.NewReader(pdfHead))
	if err != nil {
		t.Fatal(err)
	}
	src := "https://api.twilio.com/x"
	failed := &db.Attachment{CompanyID: c.ID, Type: db.AttachmentImage, SourceURL: &src, State: db.AttachmentFailed, ContentType: "image/jpeg"}
	if err := db.InsertAttachment(context.Background(), app.DB, failed); err != nil {
		t.Fatal(err)
	}
	got, err := app.Resolver.AttachmentForSend(as(c.ID), mine.ID)
	if err != nil || got.ID != mine.ID {
		t.Fatalf("own attachment: %v, %v", got, err)
	}
	cases := []struct {
		name string
		ctx  context.Context
		id   int64
		want apperr.Code
	}{
		{"another company's", as(c.ID), theirs.ID, apperr.Forbidden},
		{"missing", as(c.ID), theirs.ID + 1000, apperr.Forbidden},
		{"download failed", as(c.ID), failed.ID, apperr.Invalid},
		{"anonymous", context.Background(), mine.ID, apperr.Unauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := app.Resolver.AttachmentForSend(tc.ctx, tc.id); apperr.CodeOf(err) != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
	// Forbidden says the same whether the attachment exists or not.
	_, e1 := app.Resolver.AttachmentForSend(as(c.ID), theirs.ID)
	_, e2 := app.Resolver.AttachmentForSend(as(c.ID), theirs.ID+1000)
	if e1.Error() != e2.Error() {
		t.Errorf("messages differ: %q vs %q", e1, e2)
	}
}

func TestAttachmentURL_SignedAbsoluteLinkValidForADay(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.PublicBaseURL = "https://inbox.example.com" })
	c := testkit.Company(t, app.DB)
	att, err := app.Resolver.UploadMedia(as(c.ID), "a.pdf", bytes.NewReader(pdfHead))
	if err != nil {
		t.Fatal(err)
	}
	app.Clock.Set(time.Date(2026, 6, 1, 9, 15, 0, 0, time.UTC))
	link := app.Resolver.AttachmentURL(att)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://inbox.example.com/media/") || u.Path != "/media/"+strconv.FormatInt(att.ID, 10) {
		t.Fatalf("link %s", link)
	}
	exp := u.Query().Get("expires")
	if want := strconv.FormatInt(time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC).Unix(), 10); exp != want {
		t.Errorf("expires %s, want %s", exp, want)
	}
	if sig := u.Query().Get("sig"); len(sig) != 43 || strings.ContainsAny(sig, "+/=") {
		t.Errorf("sig %q is not unpadded base64url of 32 bytes", sig)
	}
	app.Clock.Set(time.Date(2026, 6, 1, 9, 55, 0, 0, time.UTC))
	if again := app.Resolver.AttachmentURL(att); again != link {
		t.Errorf("links made within the hour differ:\n%s\n%s", link, again)
	}
}
