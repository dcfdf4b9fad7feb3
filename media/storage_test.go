package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/connectme/connectme/media"
)

// files returns the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDisk_PutOpenDelete(t *testing.T) {
	dir := t.TempDir()
	d, err := media.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := media.NewKey()
	if !regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$`).MatchString(key) {
		t.Fatalf("key %q is not sharded random hex", key)
	}
	n, err := d.Put(ctx, key, bytes.NewReader([]byte("hello")))
	if err != nil || n != 5 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	f, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "hello" {
		t.Fatalf("read back %q", b)
	}
	if got := files(t, dir); len(got) != 1 || filepath.ToSlash(got[0]) != key {
		t.Fatalf("files on disk = %v, want only %s", got, key)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := d.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open after Delete: %v", err)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestDisk_FailedPutLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	d, _ := media.NewDisk(dir)
	if _, err := d.Put(context.Background(), media.NewKey(), &failingReader{n: 100_000}); err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Put(ctx, media.NewKey(), bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files left behind: %v", got)
	}
}

func TestDisk_KeysCannotLeaveTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "media")
	d, err := media.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bad := []string{"", "../escape", "ab/../../escape", "/etc/passwd", "ab//cd", ".tmp/x", "ab/./cd", `ab\cd`, "a b", "ab/cd/"}
	for _, key := range bad {
		if _, err := d.Put(ctx, key, bytes.NewReader([]byte("x"))); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", key, err)
		}
		if _, err := d.Open(ctx, key); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Open(%q) = %v, want ErrBadKey", key, err)
		}
		if err := d.Delete(ctx, key); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Delete(%q) = %v, want ErrBadKey", key, err)
		}
	}
	// A symbolic link planted inside the directory does not lead out of it.
	outside := filepath.Join(parent, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "ln")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "ln/secret"); err == nil {
		t.Error("Open followed a symbolic link out of MEDIA_DIR")
	}
	if _, err := d.Put(ctx, "ln/planted", bytes.NewReader([]byte("x"))); err == nil {
		t.Error("Put followed a symbolic link out of MEDIA_DIR")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("a file was written outside MEDIA_DIR")
	}
}
