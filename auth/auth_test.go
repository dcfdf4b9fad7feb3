package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every token is judged the same on its first use and on the next ones, when a
// genuine token is remembered; only genuine tokens are remembered.
func TestParse_SameVerdictFromMemory(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tokens := NewTokens(testSecret, time.Hour, func() time.Time { return now })
	good, _, err := tokens.Issue(7, 3, "AGENT")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	claimsAt := func(iat, exp time.Time) claims {
		return claims{CompanyID: 3, Role: "AGENT", RegisteredClaims: jwt.RegisteredClaims{Subject: "7",
			IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}}
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"cid":4,"role":"ADMIN","sub":"7","exp":1893456000,"iat":1767268800}`))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claimsAt(now, now.Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"genuine", good, nil},
		{"another payload under its signature", parts[0] + "." + forged + "." + parts[2], ErrInvalidToken},
		{"its signature altered", parts[0] + "." + parts[1] + "." + strings.ToUpper(parts[2][:4]) + parts[2][4:], ErrInvalidToken},
		{"another secret", sign(t, jwt.SigningMethodHS256, []byte("another secret, just as long....."), claimsAt(now, now.Add(time.Hour))), ErrInvalidToken},
		{"alg none", none, ErrInvalidToken},
		{"HS512 with our secret", sign(t, jwt.SigningMethodHS512, testSecret, claimsAt(now, now.Add(time.Hour))), ErrInvalidToken},
		{"no exp", sign(t, jwt.SigningMethodHS256, testSecret, claims{CompanyID: 3, RegisteredClaims: jwt.RegisteredClaims{Subject: "7"}}), ErrInvalidToken},
		{"expired", sign(t, jwt.SigningMethodHS256, testSecret, claimsAt(now.Add(-2*time.Hour), now.Add(-time.Hour))), ErrTokenExpired},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, testSecret, claimsAt(now.Add(time.Hour), now.Add(2*time.Hour))), ErrInvalidToken},
		{"no company", sign(t, jwt.SigningMethodHS256, testSecret, jwt.RegisteredClaims{Subject: "7", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}), ErrInvalidToken},
		{"not a token", "abc.def", ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for use := range 3 {
				p, err := tokens.Parse(c.token)
				switch {
				case c.want == nil && (err != nil || p.UserID != 7 || p.CompanyID != 3 || p.Role != "AGENT"):
					t.Fatalf("use %d: %+v, %v", use, p, err)
				case c.want != nil && !errors.Is(err, c.want):
					t.Fatalf("use %d: %v, want %v", use, err, c.want)
				}
			}
		})
	}
	if n := tokens.verified.Len(); n != 1 {
		t.Fatalf("%d tokens remembered, want the genuine one only", n)
	}
}

// A remembered token still expires on time and is not accepted before it was
// issued (the clock going back); expired, it is forgotten.
func TestParse_RememberedTokenStillExpires(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tokens := NewTokens(testSecret, time.Hour, func() time.Time { return now })
	tok, exp, err := tokens.Issue(7, 3, "AGENT")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Parse(tok); err != nil {
		t.Fatal(err)
	}
	now = now.Add(-time.Minute)
	if _, err := tokens.Parse(tok); !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrTokenExpired) {
		t.Fatalf("used before it was issued: %v", err)
	}
	now = exp.Add(-time.Second)
	if _, err := tokens.Parse(tok); err != nil {
		t.Fatalf("a second before its exp: %v", err)
	}
	now = exp
	if _, err := tokens.Parse(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("at its exp: %v", err)
	}
	if tokens.verified.Contains(tok) {
		t.Fatal("an expired token stays remembered")
	}
	if _, err := tokens.Parse(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("after its exp, verified again: %v", err)
	}
}

// The memory is bounded, and safe to use from many requests at once.
func TestParse_MemoryBoundedAndConcurrent(t *testing.T) {
	tokens := NewTokens(testSecret, time.Hour, nil)
	var all []string
	for i := range verifiedTokens + 50 {
		tok, _, err := tokens.Issue(int64(i+1), 3, "AGENT")
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tok)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(all); i += 4 {
				p, err := tokens.Parse(all[i])
				if err != nil || p.UserID != int64(i+1) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := tokens.verified.Len(); n > verifiedTokens || n < verifiedTokens-8 {
		t.Fatalf("%d tokens remembered, bound %d", n, verifiedTokens)
	}
}

// BenchmarkParse_FirstUseAndRemembered is a token's verification on first use and from
// memory.
func BenchmarkParse_FirstUseAndRemembered(b *testing.B) {
	tokens := NewTokens(testSecret, time.Hour, nil)
	tok, _, _ := tokens.Issue(7, 3, "AGENT")
	b.Run("verified", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Parse(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
