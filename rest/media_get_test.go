package rest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
)

func TestGetMedia_AccessByTokenOrSignedLink(t *testing.T) {
	e := newMediaEnv(t)
	content := append(pdfHead, make([]byte, 500)...)
	s := e.upload(t, "contract.pdf", content)
	own := fmt.Sprintf("/media/%d", s.AttachmentID)
	missing := fmt.Sprintf("/media/%d", s.AttachmentID+1000)
	signed := e.signedPath(t, s.AttachmentID)
	u, _ := url.Parse(signed)
	q := u.Query()
	// A link signed for one id does not open another.
	_, otherQuery, _ := strings.Cut(e.signedPath(t, s.AttachmentID+1), "?")
	withQuery := func(vals ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(vals); i += 2 {
			v.Set(vals[i], vals[i+1])
		}
		return own + "?" + v.Encode()
	}
	cases := []struct {
		name, path, token string
		status            int
	}{
		{"agent of the company", own, e.token, 200},
		{"signed link, no token", signed, "", 200},
		{"signed link, another company's token", signed, e.otherToken, 200},
		{"agent of another company", own, e.otherToken, 403},
		{"unknown id with a token", missing, e.token, 403},
		{"no token, no signature", own, "", 401},
		{"unknown id, no token", missing, "", 401},
		{"bad token, no signature", own, "garbage", 401},
		{"forged signature", withQuery("expires", q.Get("expires"), "sig", strings.Repeat("A", 43)), "", 403},
		{"expiry moved", withQuery("expires", "9999999999", "sig", q.Get("sig")), "", 403},
		{"signature without expiry", withQuery("sig", q.Get("sig")), "", 403},
		{"signature of another attachment", own + "?" + otherQuery, "", 403},
		{"signed link to a missing attachment", e.signedPath(t, s.AttachmentID+1000), "", 404},
		{"not an id", "/media/abc", e.token, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, http.MethodGet, tc.path, tc.token)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.200s", r.Status, tc.status, r.Body)
			}
			if tc.status == 200 && !bytes.Equal(r.Body, content) {
				t.Error("wrong content")
			}
		})
	}
	// Another company's attachment and a missing one answer the same.
	a := e.get(t, http.MethodGet, own, e.otherToken)
	b := e.get(t, http.MethodGet, missing, e.token)
	if string(a.Body) != string(b.Body) {
		t.Errorf("403 bodies differ, existence leaks:\n%s\n%s", a.Body, b.Body)
	}
	// The link expires: 24 hours, rounded up to the hour.
	e.app.Clock.Set(e.app.Clock.Now().Add(25*time.Hour + time.Second))
	expectError(t, e.get(t, http.MethodGet, signed, ""), 403)
	if r := e.get(t, http.MethodGet, own, e.app.Token(e.agent)); r.Status != 200 {
		t.Errorf("an agent's token still opens it: %d", r.Status)
	}
}

func TestGetMedia_ServesRangesConditionalsAndSafeHeaders(t *testing.T) {
	e := newMediaEnv(t)
	content := append(append([]byte{}, pngHead...), []byte(strings.Repeat("0123456789", 100))...)
	img := e.upload(t, "kitten 🐱.png", content)
	doc := e.upload(t, "report.pdf", pdfHead)
	path := fmt.Sprintf("/media/%d", img.AttachmentID)

	r := e.get(t, http.MethodGet, path, e.token)
	h := r.Header
	if h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Accept-Ranges") != "bytes" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("headers: %v", h)
	}
	if cd := h.Get("Content-Disposition"); cd != `inline; filename="kitten _.png"; filename*=UTF-8''kitten%20%F0%9F%90%B1.png` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cd := e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", doc.AttachmentID), e.token).Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("a document is not served as an attachment: %q", cd)
	}

	r = e.get(t, http.MethodGet, path, e.token, "Range", "bytes=0-9")
	if r.Status != http.StatusPartialContent || !bytes.Equal(r.Body, content[:10]) ||
		r.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", len(content)) {
		t.Errorf("range 0-9: %d %q %q", r.Status, r.Header.Get("Content-Range"), r.Body)
	}
	r = e.get(t, http.MethodGet, path, e.token, "Range", "bytes=-5")
	if r.Status != http.StatusPartialContent || !bytes.Equal(r.Body, content[len(content)-5:]) {
		t.Errorf("suffix range: %d %q", r.Status, r.Body)
	}
	r = e.get(t, http.MethodGet, path, e.token, "Range", "bytes=999999-")
	if r.Status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %d", r.Status)
	}
	etag := h.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r = e.get(t, http.MethodGet, path, e.token, "If-None-Match", etag); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match: %d", r.Status)
	}
	if r = e.get(t, http.MethodGet, path, e.token, "Range", "bytes=0-9", "If-Range", `"stale"`); r.Status != http.StatusOK || len(r.Body) != len(content) {
		t.Errorf("If-Range with a stale ETag must send the whole file: %d, %d bytes", r.Status, len(r.Body))
	}
	// The provider checks the type with HEAD through the signed link.
	r = e.get(t, http.MethodHead, e.signedPath(t, img.AttachmentID), "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" ||
		r.Header.Get("Content-Length") != fmt.Sprint(len(content)) || len(r.Body) != 0 {
		t.Errorf("HEAD: %d %v", r.Status, r.Header)
	}
}

func TestGetMedia_InboundMediaBeforeAndAfterTheFetch(t *testing.T) {
	e := newMediaEnv(t)
	source := "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
	pending := &db.Attachment{CompanyID: e.companyID, Type: db.AttachmentImage, ContentType: "image/jpeg",
		SourceURL: &source, State: db.AttachmentPending}
	failed := &db.Attachment{CompanyID: e.companyID, Type: db.AttachmentImage, ContentType: "image/jpeg",
		SourceURL: &source, State: db.AttachmentFailed}
	for _, a := range []*db.Attachment{pending, failed} {
		if err := db.InsertAttachment(context.Background(), e.app.DB, a); err != nil {
			t.Fatal(err)
		}
	}
	r := e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", pending.ID), e.token)
	if r.Status != http.StatusTemporaryRedirect || r.Header.Get("Location") != source || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("pending: %d, Location %q, Cache-Control %q; want an uncached redirect to the provider",
			r.Status, r.Header.Get("Location"), r.Header.Get("Cache-Control"))
	}
	if got := e.app.Resolver.AttachmentURL(pending); got != source {
		t.Errorf("AttachmentURL(pending) = %q, want the provider's URL", got)
	}
	expectError(t, e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", pending.ID), e.otherToken), 403)
	expectError(t, e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", failed.ID), e.token), 404)
}

func TestGetMedia_IDsAreDigitsOnly(t *testing.T) {
	e := newMediaEnv(t)
	s := e.upload(t, "a.pdf", pdfHead)
	for _, id := range []string{"+" + fmt.Sprint(s.AttachmentID), "0", "-1", "1.0", "abc"} {
		m := expectError(t, e.get(t, http.MethodGet, "/media/"+id, e.token), http.StatusBadRequest)
		if fmt.Sprint(m["message"]) != "[attachmentId must be a positive integer id]" {
			t.Errorf("%s: %v", id, m["message"])
		}
	}
}
