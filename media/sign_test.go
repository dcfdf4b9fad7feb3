package media_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/media"
)

func TestSigner_LinksVerifyUntilTheyExpire(t *testing.T) {
	s := media.NewSigner([]byte("k-k-k-k-k-k-k-k-k-k-k-k-k-k-k-k-k"))
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Hour).Unix()
	expS := strconv.FormatInt(exp, 10)
	sig := s.Sign(42, exp)
	other := media.NewSigner([]byte("another key, another key, another"))

	cases := []struct {
		name         string
		id           int64
		expires, sig string
		at           time.Time
		wantAccepted bool
	}{
		{"valid", 42, expS, sig, now, true},
		{"valid with padding", 42, expS, sig + "=", now, true},
		{"one second before expiry", 42, expS, sig, time.Unix(exp-1, 0), true},
		{"at expiry", 42, expS, sig, time.Unix(exp, 0), false},
		{"after expiry", 42, expS, sig, now.Add(2 * time.Hour), false},
		{"another attachment", 43, expS, sig, now, false},
		{"expiry pushed later", 42, strconv.FormatInt(exp+3600, 10), sig, now, false},
		{"forged signature", 42, expS, strings.Repeat("A", len(sig)), now, false},
		{"signed with another key", 42, expS, other.Sign(42, exp), now, false},
		{"not base64", 42, expS, "!!!", now, false},
		{"empty signature", 42, expS, "", now, false},
		{"expires not a number", 42, "soon", sig, now, false},
		{"expires with a sign", 42, "+" + expS, sig, now, false},
		{"negative expires", 42, "-1", s.Sign(42, -1), now, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Verify(tc.id, tc.expires, tc.sig, tc.at)
			if (err == nil) != tc.wantAccepted {
				t.Errorf("Verify = %v, want accepted=%v", err, tc.wantAccepted)
			}
		})
	}
}

func TestSigner_URLIsAbsoluteAndVerifies(t *testing.T) {
	s := media.NewSigner(media.SigningKey("", []byte("jwt secret")))
	now := time.Date(2026, 3, 1, 10, 20, 0, 0, time.UTC)
	raw := s.URL("https://inbox.example.com/", 7, media.LinkExpiry(now, 24*time.Hour))
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "inbox.example.com" || u.Path != "/media/7" {
		t.Fatalf("URL = %s", raw)
	}
	q := u.Query()
	if err := s.Verify(7, q.Get("expires"), q.Get("sig"), now); err != nil {
		t.Fatalf("own link does not verify: %v", err)
	}
	if want := strconv.FormatInt(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC).Unix(), 10); q.Get("expires") != want {
		t.Errorf("expires = %s, want %s (24h later, rounded up to the hour)", q.Get("expires"), want)
	}
}

func TestSigningKey_DerivedFromJWTSecretUnlessSet(t *testing.T) {
	jwt := []byte("jwt secret")
	derived := media.SigningKey("", jwt)
	if string(derived) == string(jwt) {
		t.Error("the JWT secret is used as is")
	}
	if string(media.SigningKey("", jwt)) != string(derived) {
		t.Error("derivation is not stable")
	}
	if got := media.SigningKey("explicit-explicit-explicit-explicit", jwt); string(got) != "explicit-explicit-explicit-explicit" {
		t.Errorf("MEDIA_SIGNING_KEY ignored: %q", got)
	}
}
