package auth

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestRevocations_RefusesRevokedSessionsUntilTheirTokensExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	rev := NewRevocations(time.Hour, clock)
	tokens := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, clock)
	tokens.Revoked = rev
	tok, _, err := tokens.IssueSession(1, 2, "AGENT", "s1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := tokens.IssueSession(1, 2, "AGENT", "s2")
	var told atomic.Int32
	stop := rev.Watch("s1", func() { told.Add(1) })
	defer stop()
	if p, err := tokens.Parse(tok); err != nil || p.SessionID != "s1" {
		t.Fatalf("live session refused: %v", err)
	}
	rev.Add(now, "s1")
	if _, err := tokens.Parse(tok); !errors.Is(err, ErrSessionEnded) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("revoked session accepted: %v", err)
	}
	if _, err := tokens.Parse(other); err != nil {
		t.Fatalf("other session refused: %v", err)
	}
	rev.Add(now, "s1") // the NOTIFY coming back: told once
	if told.Load() != 1 {
		t.Fatalf("watcher told %d times", told.Load())
	}
	// Watching a revoked session tells at once.
	rev.Watch("s1", func() { told.Add(1) })
	if told.Load() != 2 {
		t.Fatal("watching a revoked session did not tell")
	}
	// Once every token of the session has expired, the entry goes.
	now = now.Add(2 * time.Hour)
	rev.Add(now.Add(-3*time.Hour), "old") // expired already: not kept
	if rev.Has("s1") || rev.Has("old") || rev.Len() != 0 {
		t.Fatalf("expired entries kept: %d", rev.Len())
	}
	var nilSet *Revocations
	if nilSet.Has("x") {
		t.Fatal("a nil set has something")
	}
}

// BenchmarkParse compares checking a token with and without the revocation set
// (10,000 revoked sessions): the session check is one map lookup under a read lock.
func BenchmarkParse(b *testing.B) {
	tokens := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil)
	tok, _, _ := tokens.IssueSession(1, 2, "AGENT", "8f14e45f-ceea-467f-a8f1-4a2d8d1f0e6b")
	b.Run("without sessions", func(b *testing.B) {
		for b.Loop() {
			if _, err := tokens.Parse(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	rev := NewRevocations(time.Hour, nil)
	for i := range 10000 {
		rev.Add(time.Now(), fmt.Sprintf("revoked-%d", i))
	}
	tokens.Revoked = rev
	b.Run("with 10000 revoked sessions", func(b *testing.B) {
		for b.Loop() {
			if _, err := tokens.Parse(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParse_RefusalsSayWhy: a genuine expired token is ErrTokenExpired, a token
// signed with another key is plain ErrInvalidToken whatever its exp; all are
// ErrInvalidToken.
func TestParse_RefusalsSayWhy(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ours := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, func() time.Time { return now })
	theirs := NewTokens([]byte("fedcba9876543210fedcba9876543210"), time.Hour, func() time.Time { return now })
	tok, _, _ := ours.Issue(1, 2, "AGENT")
	forged, _, _ := theirs.Issue(1, 2, "AGENT")
	now = now.Add(2 * time.Hour)
	for _, c := range []struct {
		tok, reason string
	}{{tok, ReasonTokenExpired}, {forged, ReasonTokenInvalid}, {"x.y.z", ReasonTokenInvalid}} {
		_, err := ours.Parse(c.tok)
		if !errors.Is(err, ErrInvalidToken) || Reason(err) != c.reason {
			t.Errorf("%.20s…: %v, reason %q, want %q", c.tok, err, Reason(err), c.reason)
		}
	}
}
