package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/media"
)

// zeros yields zero bytes forever.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sized returns a reader of exactly size bytes that starts with head, without ever
// holding more than head in memory.
func sized(head []byte, size int64) io.Reader {
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, size-int64(len(head))))
}

var (
	pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdfHead = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	elfHead = append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 64)...)
)

func newStore(t *testing.T) (*media.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := media.NewStore(dir, "http://localhost:8080", []byte("test-key-test-key-test-key-test-key"))
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestStore_SaveStreamsAndDetects(t *testing.T) {
	s, dir := newStore(t)
	saved, err := s.Save(context.Background(), sized(pngHead, 5_000_000))
	if err != nil {
		t.Fatalf("a PNG of exactly 5 MB is refused: %v", err)
	}
	if saved.Type != db.AttachmentImage || saved.ContentType != "image/png" || saved.Size != 5_000_000 {
		t.Errorf("saved = %+v", saved)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Errorf("files = %v, want the one file", got)
	}
}

func TestStore_EachTypeIsCutOffAtItsLimit(t *testing.T) {
	cases := []struct {
		name  string
		head  []byte
		typ   string
		limit int64
	}{
		{"image", pngHead, db.AttachmentImage, 5_000_000},
		{"video", ftyp("isom"), db.AttachmentVideo, 16_000_000},
		{"audio", ogg("OpusHead"), db.AttachmentAudio, 16_000_000},
		{"document", pdfHead, db.AttachmentDocument, 100_000_000},
	}
	s, dir := newStore(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Save(context.Background(), sized(tc.head, tc.limit+1))
			var tooLarge *media.TooLargeError
			if !errors.As(err, &tooLarge) || tooLarge.Type != tc.typ || tooLarge.Limit != tc.limit {
				t.Fatalf("Save(limit+1) = %v, want TooLargeError for %s at %d", err, tc.typ, tc.limit)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("files left behind: %v", got)
			}
		})
	}
}

func TestStore_RefusalsLeaveNothing(t *testing.T) {
	s, dir := newStore(t)
	var refused *media.RefusedError
	if _, err := s.Save(context.Background(), bytes.NewReader(elfHead)); !errors.As(err, &refused) {
		t.Errorf("ELF: %v, want RefusedError", err)
	}
	if _, err := s.Save(context.Background(), bytes.NewReader(nil)); !errors.Is(err, media.ErrEmpty) {
		t.Errorf("empty: %v, want ErrEmpty", err)
	}
	var readErr *media.ReadError
	src := io.MultiReader(bytes.NewReader(pdfHead), &failingReader{n: 50_000})
	if _, err := s.Save(context.Background(), src); !errors.As(err, &readErr) {
		t.Errorf("broken source: %v, want ReadError", err)
	}
	if _, err := s.Save(context.Background(), &failingReader{n: 10}); !errors.As(err, &readErr) {
		t.Errorf("source broken within the first bytes: %v, want ReadError", err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files left behind: %v", got)
	}
}
