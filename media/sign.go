package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Signer makes and checks expiring links to attachments:
// /media/{id}?expires=<unix seconds>&sig=<base64url, unpadded, HMAC-SHA256 of "id:expires">.
// Whoever holds such a link may fetch that one file until it expires: the provider
// fetches media this way when we send them, and browsers use the same links.
type Signer struct{ key []byte }

// ErrBadSignature is returned for a link that was not signed with our key, names
// another attachment, or has expired. One error for all: the caller learns nothing.
var ErrBadSignature = errors.New("media: invalid or expired link")

// NewSigner returns a Signer with key.
func NewSigner(key []byte) *Signer { return &Signer{key: key} }

// SigningKey returns the key of media links: MEDIA_SIGNING_KEY when set, else a key
// derived from the JWT secret. Deriving (rather than reusing the secret as is) keeps
// the two uses apart, so no link signature can ever be replayed as a token's.
func SigningKey(mediaSigningKey string, jwtSecret []byte) []byte {
	if mediaSigningKey != "" {
		return []byte(mediaSigningKey)
	}
	mac := hmac.New(sha256.New, jwtSecret)
	mac.Write([]byte("connectme media link signing v1"))
	return mac.Sum(nil)
}

// Sign returns the signature of a link to attachment id valid until expires (Unix
// seconds).
func (s *Signer) Sign(id, expires int64) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a link's expires and sig query values for attachment id at now.
func (s *Signer) Verify(id int64, expires, sig string, now time.Time) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || exp <= 0 || strings.HasPrefix(expires, "+") {
		return ErrBadSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sig, "="))
	if err != nil {
		return ErrBadSignature
	}
	want, _ := base64.RawURLEncoding.DecodeString(s.Sign(id, exp))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	if now.Unix() >= exp {
		return ErrBadSignature
	}
	return nil
}

// URL returns the absolute signed link to attachment id under baseURL, valid until
// expires.
func (s *Signer) URL(baseURL string, id int64, expires time.Time) string {
	exp := expires.Unix()
	return strings.TrimRight(baseURL, "/") + "/media/" + strconv.FormatInt(id, 10) +
		"?expires=" + strconv.FormatInt(exp, 10) + "&sig=" + s.Sign(id, exp)
}

// LinkExpiry returns when a link made at now should expire: ttl later, rounded up to
// the next full hour, so that the links made within one hour are the same URL and
// browsers and the provider can cache the file.
func LinkExpiry(now time.Time, ttl time.Duration) time.Time {
	t := now.Add(ttl)
	if r := t.Truncate(time.Hour); !r.Equal(t) {
		return r.Add(time.Hour)
	}
	return t
}
