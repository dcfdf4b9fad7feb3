package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// LinkTTL is how long a signed link stays valid (at least; see LinkExpiry).
const LinkTTL = 24 * time.Hour

// Store saves files with WhatsApp's type and size rules and signs links to them.
type Store struct {
	// Storage keeps the bytes.
	Storage Storage
	// Signer signs links.
	Signer *Signer
	// BaseURL is PUBLIC_BASE_URL: links are absolute so the provider can follow them.
	BaseURL string
	// Quota is MEDIA_QUOTA_PER_COMPANY: the bytes of stored files past which a
	// company's uploads are refused (inbound media never are); 0 means no quota.
	Quota int64
}

// NewStore returns a Store keeping files on disk under dir.
func NewStore(dir, baseURL string, signingKey []byte) (*Store, error) {
	disk, err := NewDisk(dir)
	if err != nil {
		return nil, err
	}
	return &Store{Storage: disk, Signer: NewSigner(signingKey), BaseURL: baseURL}, nil
}

// Saved is a file Save stored.
type Saved struct {
	Kind
	// Key is the storage key.
	Key string
	// Size is the file's size in bytes.
	Size int64
}

// ReadError is returned when the file's source failed while Save read it (a client
// that went away, a cut-short upload, a request over its size limit): the caller's
// fault, not the server's.
type ReadError struct{ Err error }

// Error implements error.
func (e *ReadError) Error() string { return "read upload: " + e.Err.Error() }

// Unwrap returns the source's error.
func (e *ReadError) Unwrap() error { return e.Err }

// Save streams a file into storage under a new key. Its type comes from its first
// bytes (Classify); the size limit of that type is enforced while the rest streams
// through, so a file is never held in memory and an oversized one is cut off at the
// limit. Errors: ErrEmpty, *RefusedError, *TooLargeError, *ReadError, or a storage
// failure. On any error nothing is left in storage.
func (s *Store) Save(ctx context.Context, r io.Reader) (*Saved, error) {
	src := &sourceReader{r: r}
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &ReadError{Err: err}
	}
	head = head[:n]
	kind, err := Classify(head)
	if err != nil {
		return nil, err
	}
	body := &limitReader{r: io.MultiReader(bytes.NewReader(head), src), left: kind.Limit}
	key := NewKey()
	size, err := s.Storage.Put(ctx, key, body)
	switch {
	case err == nil:
		return &Saved{Kind: kind, Key: key, Size: size}, nil
	case body.over:
		return nil, &TooLargeError{Type: kind.Type, Limit: kind.Limit}
	case src.err != nil:
		return nil, &ReadError{Err: src.err}
	case ctx.Err() != nil:
		return nil, &ReadError{Err: ctx.Err()}
	}
	return nil, fmt.Errorf("store media: %w", err)
}

// errOverLimit stops a Put when the file grows past its type's limit.
var errOverLimit = errors.New("media: file over its size limit")

// limitReader yields at most left bytes and fails as soon as there are more.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, errOverLimit
	}
	// Read one byte past the limit: only then do we know the file is too large.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.over = true
		return 0, errOverLimit
	}
	l.left -= int64(n)
	return n, err
}

// sourceReader remembers the first error of the file's source, so Save can tell a
// bad upload from a storage failure.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// URL returns the absolute signed link to attachment id, valid for LinkTTL from now.
func (s *Store) URL(id int64, now time.Time) string {
	return s.Signer.URL(s.BaseURL, id, LinkExpiry(now, LinkTTL))
}
