package resolvers

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// FuzzPlanInbound checks that validating provider input never panics, refuses only
// with validation errors, and lets through nothing PostgreSQL would refuse (invalid
// UTF-8, NUL) or an agent's browser should not be handed as a filename.
func FuzzPlanInbound(f *testing.F) {
	f.Add("SM0123", "whatsapp:+94717936775", "whatsapp:+14155238886", "hello", "Nimal", "https://a.example/x/photo.jpg", "image/jpeg; q=1")
	f.Add("SM'1", "whatsapp:0717936775", "", "a\x00b", "\xff", "file:///etc/passwd", "jpeg")
	f.Add("SM2", "+1 (415) 555-0100", "x", "", strings.Repeat("é", 300), "https://a.example/..%2F..%2Fetc%2Fpasswd", "")
	f.Add("SM3", "whatsapp:+447911123456", "t", "b", "", "http://h/"+strings.Repeat("a", 300)+".pdf", "application/pdf")
	f.Add("SM4", "whatsapp:+94717936775", "t", "b", "", "https://h/.hidden", "audio/ogg")
	f.Fuzz(func(t *testing.T, sid, from, to, body, profile, mediaURL, mediaType string) {
		in := InboundMessage{MessageSID: sid, From: from, To: to, Body: body, ProfileName: profile,
			Media: []InboundMedia{{URL: mediaURL, ContentType: mediaType}}}
		p, err := planInbound(in)
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != apperr.Invalid {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		for _, s := range []string{p.sid, p.phone, p.to, p.profileName} {
			if !cleanText(s) {
				t.Fatalf("unclean text accepted: %q", s)
			}
		}
		if !strings.HasPrefix(p.phone, "+") || p.sid == "" || p.to == "" {
			t.Fatalf("plan %+v", p)
		}
		if (p.body == nil) != (body == "") {
			t.Fatalf("content %v for body %q", p.body, body)
		}
		if utf8.RuneCountInString(p.profileName) > maxNameLength {
			t.Fatalf("profile name of %d characters", utf8.RuneCountInString(p.profileName))
		}
		if len(p.attachments) != 1 {
			t.Fatalf("%d attachments", len(p.attachments))
		}
		a := p.attachments[0]
		switch a.Type {
		case db.AttachmentImage, db.AttachmentVideo, db.AttachmentAudio, db.AttachmentDocument:
		default:
			t.Fatalf("attachment type %q", a.Type)
		}
		name := a.Filename
		if name == "" || len(name) > maxFilenameLength || strings.HasPrefix(name, ".") ||
			strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
			t.Fatalf("unsafe filename %q from %q", name, mediaURL)
		}
		if !cleanText(a.ContentType) || !strings.Contains(a.ContentType, "/") || a.State != "PENDING" || *a.SourceURL != mediaURL {
			t.Fatalf("attachment %+v", a)
		}
	})
}

func TestMediaFilename(t *testing.T) {
	cases := map[string]string{
		"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME0": "ME0",
		"https://h/files/voice%20note.ogg?x=1":                                  "voice_note.ogg",
		"https://h/files/../..":                                                 "media-3",
		"https://h/":                                                            "media-3",
		"https://h":                                                             "media-3",
		"https://h/..%2F..%2Fetc%2Fpasswd":                                      "passwd",
		"https://h/.env":                                                        "env",
		"https://h/%E2%80%AEgpj.exe":                                            "_gpj.exe",
		"https://h/" + strings.Repeat("a", 150) + ".pdf":                        strings.Repeat("a", 96) + ".pdf",
	}
	for raw, want := range cases {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := mediaFilename(u, 3); got != want {
			t.Errorf("%s: %q, want %q", raw, got, want)
		}
	}
}

func TestAttachmentTypeOf(t *testing.T) {
	cases := map[string]string{
		"image/jpeg": db.AttachmentImage, "image/webp": db.AttachmentImage, "video/mp4": db.AttachmentVideo,
		"video/3gpp": db.AttachmentVideo, "audio/ogg": db.AttachmentAudio, "audio/amr": db.AttachmentAudio,
		"application/pdf": db.AttachmentDocument, "text/vcard": db.AttachmentDocument,
		"application/octet-stream": db.AttachmentDocument,
	}
	for ct, want := range cases {
		if got := attachmentTypeOf(ct); got != want {
			t.Errorf("%s: %s, want %s", ct, got, want)
		}
	}
}
