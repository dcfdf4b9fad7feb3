package media_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/connectme/connectme/media"
)

func TestCleanFilename_KeepsOnlyASafeDisplayName(t *testing.T) {
	long := strings.Repeat("é", 300) + ".pdf"
	cases := []struct{ name, in, want string }{
		{"plain", "report.pdf", "report.pdf"},
		{"unix traversal", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\bob\..\photo.jpg`, "photo.jpg"},
		{"absolute", "/var/lib/x.png", "x.png"},
		{"control characters", "in\x00vo\x01ice\x7f.pdf", "invoice.pdf"},
		{"newlines become spaces", "a\r\nb.txt", "a b.txt"},
		{"right-to-left override", "invoice\u202efdp.exe", "invoicefdp.exe"},
		{"zero-width space", "a\u200bb.txt", "ab.txt"},
		{"hidden file", ".bashrc", "bashrc"},
		{"dots only", "..", "file.pdf"},
		{"empty", "", "file.pdf"},
		{"only a directory", "dir/", "file.pdf"},
		{"invalid utf-8", "a\xffb.txt", "ab.txt"},
		{"unicode kept", "Résumé 履歴書.docx", "Résumé 履歴書.docx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := media.CleanFilename(tc.in, ".pdf"); got != tc.want {
				t.Errorf("CleanFilename(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("long names are cut, extension kept", func(t *testing.T) {
		got := media.CleanFilename(long, "")
		if len(got) > media.MaxFilenameLen || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) {
			t.Errorf("CleanFilename(long) = %q (%d bytes)", got, len(got))
		}
	})
}

func TestContentDisposition_RFC6266(t *testing.T) {
	cases := []struct {
		inline bool
		name   string
		want   string
	}{
		{false, "report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{true, "photo 1.jpg", `inline; filename="photo 1.jpg"; filename*=UTF-8''photo%201.jpg`},
		{false, `say "hi".txt`, `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`},
		{false, `a"b;c.txt`, `attachment; filename="a_b;c.txt"; filename*=UTF-8''a%22b%3Bc.txt`},
		{false, "Résumé.pdf", `attachment; filename="R_sum_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf`},
		{false, "evil\r\nSet-Cookie: x=1", `attachment; filename="evil Set-Cookie: x=1"; filename*=UTF-8''evil%20Set-Cookie%3A%20x%3D1`},
		{false, "", `attachment; filename="file"; filename*=UTF-8''file`},
	}
	for _, tc := range cases {
		if got := media.ContentDisposition(tc.inline, tc.name); got != tc.want {
			t.Errorf("ContentDisposition(%v, %q) =\n  %s\nwant\n  %s", tc.inline, tc.name, got, tc.want)
		}
	}
}
