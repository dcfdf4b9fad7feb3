package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Storage keeps file contents under opaque keys that we generate (NewKey). Disk is the
// one implementation today; object storage can implement the same three calls.
type Storage interface {
	// Put stores everything r yields under key and returns its size. It is all or
	// nothing: when it fails (r's error included), nothing is left behind.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the content stored under key; fs.ErrNotExist when there is none.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes key's content; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrBadKey is returned for a key NewKey could not have made.
var ErrBadKey = errors.New("media: invalid storage key")

// NewKey returns a new random storage key, sharded by its first two byte pairs
// ("3f/a2/3fa2…") so that no directory grows too large.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:2] + "/" + h[2:4] + "/" + h
}

// checkKey accepts only keys made of plain segments of letters, digits, - and _, so
// no key can name a parent directory, an absolute path or the temporary directory.
func checkKey(key string) error {
	if key == "" || len(key) > 255 {
		return ErrBadKey
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" {
			return ErrBadKey
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return ErrBadKey
			}
		}
	}
	return nil
}

// tmpDir is where Disk writes files before they are complete. It lives inside the
// media directory so the final rename stays on one file system (and is atomic).
const tmpDir = ".tmp"

// Disk stores files in a directory. Every access goes through os.Root, so even a key
// that slipped past checkKey, or a symbolic link planted in the directory, cannot
// reach outside it.
type Disk struct{ dir string }

// NewDisk returns a Disk storing files under dir, creating it when missing.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("media: MEDIA_DIR is empty")
	}
	if err := os.MkdirAll(path.Join(dir, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("media: create MEDIA_DIR: %w", err)
	}
	return &Disk{dir: dir}, nil
}

// Put implements Storage: it writes to a temporary file, syncs it and renames it into
// place, so a reader never sees half a file and a failed Put leaves nothing.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return 0, fmt.Errorf("media: open MEDIA_DIR: %w", err)
	}
	defer root.Close()
	if err := root.MkdirAll(tmpDir, 0o750); err != nil {
		return 0, fmt.Errorf("media: %w", err)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	tmp := tmpDir + "/" + hex.EncodeToString(b[:])
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("media: %w", err)
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.MkdirAll(path.Dir(key), 0o750)
	}
	if err == nil {
		err = root.Rename(tmp, key)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return n, err
	}
	return n, nil
}

// Open implements Storage.
func (d *Disk) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.OpenInRoot(d.dir, key)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}

// Delete implements Storage.
func (d *Disk) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ctxReader stops a copy when its context ends (a client gone, a server stopping).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
