package resolvers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// Sessions (CONTRACT §5). A sign-in (login, signup, acceptInvitation) creates a
// session row; its access tokens (JWTs, JWT_TTL) carry the session id, and its
// refresh token (30 days, rotated on every use) is stored only as a SHA-256 hash.
// Ending a session sets revoked_at and NOTIFYs every instance, which adds the id to
// its in-memory revocation set (auth.Revocations): from then on the session's
// access tokens are refused without a database round trip per request.

// RefreshTTL is how long a refresh token stays valid from its issue.
const RefreshTTL = 30 * 24 * time.Hour

// Reasons a session ended (sessions.revoked_reason).
const (
	reasonLogout      = "logout"
	reasonReuse       = "refresh token reuse"
	reasonPassword    = "password changed"
	reasonDeactivated = "deactivated"
	reasonRoleChanged = "role changed"
)

// maxSecretLength bounds a presented refresh or invitation token (ours are 43).
const maxSecretLength = 128

// newSecret returns a random 256-bit token, URL-safe, and its SHA-256 hash (the
// only form stored).
func newSecret() (token string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never returns an error on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashSecret(token)
}

// hashSecret is the stored form of a token.
func hashSecret(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// sameHash compares two hashes in constant time. Rows are found by the hash of a
// 256-bit secret, so the lookup's timing tells nothing of the secret; the
// comparison makes that explicit.
func sameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func unauthenticated() error { return apperr.New(apperr.Unauthenticated, "Unauthorized") }

// newRefreshToken makes a refresh token of the session, issued at now.
func newRefreshToken(sessionID uuid.UUID, now time.Time) (*db.RefreshToken, string) {
	tok, hash := newSecret()
	return &db.RefreshToken{TokenHash: hash, SessionID: sessionID, CreatedAt: now, ExpiresAt: now.Add(RefreshTTL)}, tok
}

// startSession stores a new session of u in tx; the caller signs its access token
// (sign) once the transaction has committed.
func (r *Resolver) startSession(ctx context.Context, tx bun.IDB, u *db.User) (*Session, error) {
	now := r.now()
	s := &db.Session{ID: uuid.New(), CompanyID: u.CompanyID, UserID: u.ID, CreatedAt: now, LastUsedAt: now,
		RefreshExpiresAt: now.Add(RefreshTTL)}
	rt, tok := newRefreshToken(s.ID, now)
	if err := db.InsertSession(ctx, tx, s, rt); err != nil {
		return nil, err
	}
	return &Session{User: u, SessionID: s.ID.String(), RefreshToken: tok}, nil
}

// sign fills the session's access token.
func (r *Resolver) sign(s *Session) (*Session, error) {
	role := ""
	if s.User.Role != nil {
		role = *s.User.Role
	}
	tok, exp, err := r.Tokens.IssueSession(s.User.ID, s.User.CompanyID, role, s.SessionID)
	if err != nil {
		return nil, err
	}
	s.Token, s.ExpiresAt = tok, exp
	return s, nil
}

// newSession creates a session of u in a transaction of its own and signs it.
func (r *Resolver) newSession(ctx context.Context, u *db.User) (*Session, error) {
	var s *Session
	err := r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		s, err = r.startSession(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return r.sign(s)
}

// revokeSessions ends the sessions f selects, in tx, and announces them to every
// instance on commit; the caller passes the ids to revoked after the commit.
func revokeSessions(ctx context.Context, tx bun.IDB, f db.RevokeFilter, at time.Time, reason string) ([]string, error) {
	ids, err := db.RevokeSessions(ctx, tx, f, at, reason)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out, publishRevoked(ctx, tx, at, out)
}

// revoked adds sessions ended by a committed transaction to this instance's set at
// once (the NOTIFY reaches the other instances, and this one again).
func (r *Resolver) revoked(at time.Time, ids []string) {
	if r.Tokens != nil {
		r.Tokens.Revoked.Add(at, ids...)
	}
}

// RefreshSession exchanges a refresh token for a new access token and a new
// refresh token. A token that was rotated already is presented again only by
// someone who copied it (or by a client that refreshed twice at once): the whole
// session ends. So of two concurrent refreshes of one token, one succeeds and the
// other, being reuse, is UNAUTHENTICATED and ends the session, the winner's new
// tokens included: a client must not refresh twice in parallel.
func (r *Resolver) RefreshSession(ctx context.Context, token string) (*Session, error) {
	if err := r.allowAuthAttempt(ctx, "refreshSession"); err != nil {
		return nil, err
	}
	if token == "" || len(token) > maxSecretLength {
		return nil, unauthenticated()
	}
	hash := hashSecret(token)
	now := r.now()
	var (
		out    *Session
		reused []string
	)
	errRefused := errors.New("refused")
	err := r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rt, err := db.RefreshTokenByHash(ctx, tx, hash)
		if errors.Is(err, db.ErrNotFound) || err == nil && !sameHash(rt.TokenHash, hash) {
			return errRefused
		}
		if err != nil {
			return err
		}
		s, err := db.LockSession(ctx, tx, rt.SessionID)
		if err != nil {
			return err
		}
		if s.RevokedAt != nil {
			return errRefused
		}
		// Read again under the session's lock: a concurrent refresh may have
		// rotated it meanwhile.
		if rt, err = db.RefreshTokenByHash(ctx, tx, hash); err != nil {
			return err
		}
		if rt.RotatedAt != nil {
			reused, err = revokeSessions(ctx, tx, db.RevokeFilter{SessionID: &s.ID}, now, reasonReuse)
			return err
		}
		if !rt.ExpiresAt.After(now) {
			return errRefused
		}
		u, err := db.UserByID(ctx, tx, s.CompanyID, s.UserID)
		if errors.Is(err, db.ErrNotFound) || err == nil && !u.Active {
			return errRefused
		}
		if err != nil {
			return err
		}
		next, tok := newRefreshToken(s.ID, now)
		if err := db.RotateRefreshToken(ctx, tx, rt, next); err != nil {
			return err
		}
		out = &Session{User: u, SessionID: s.ID.String(), RefreshToken: tok}
		return nil
	})
	if errors.Is(err, errRefused) {
		return nil, unauthenticated()
	}
	if err != nil {
		return nil, fmt.Errorf("refresh session: %w", err)
	}
	if out == nil {
		r.revoked(now, reused)
		if r.Log != nil {
			r.Log.WarnContext(ctx, "a rotated refresh token was presented again: session ended", "sessions", reused)
		}
		return nil, unauthenticated()
	}
	return r.sign(out)
}

// Logout ends the caller's session, or every session of the caller.
func (r *Resolver) Logout(ctx context.Context, allSessions bool) (bool, error) {
	p, err := principal(ctx)
	if err != nil {
		return false, err
	}
	f := db.RevokeFilter{UserID: p.UserID}
	if !allSessions {
		sid, err := uuid.Parse(p.SessionID)
		if err != nil {
			return false, nil // a token made outside any session has nothing to end
		}
		f = db.RevokeFilter{SessionID: &sid}
	}
	now := r.now()
	var ids []string
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err = revokeSessions(ctx, tx, f, now, reasonLogout)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("logout: %w", err)
	}
	r.revoked(now, ids)
	return true, nil
}

// ChangePassword sets the caller's password after checking the current one, ends
// every other session of the caller and answers a new access and refresh token of
// the caller's session (whose old refresh token counts as rotated).
func (r *Resolver) ChangePassword(ctx context.Context, current, next string) (*Session, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Validation
	if current == "" {
		v.Addf("currentPassword should not be empty")
	}
	checkPassword(&v, "newPassword", next)
	if err := v.Err(); err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, r.DB, p.CompanyID, p.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, unauthenticated()
	}
	if err != nil {
		return nil, err
	}
	email := ""
	if u.Email != nil {
		email = *u.Email
	}
	if err := r.allowAuthAttempt(ctx, email); err != nil {
		return nil, err
	}
	hash := ""
	if u.PasswordHash != nil {
		hash = *u.PasswordHash
	}
	if !auth.CheckPassword(hash, current) {
		return nil, apperr.Invalidf("currentPassword is incorrect")
	}
	newHash, err := auth.HashPassword(next)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var (
		out   *Session
		ended []string
	)
	sid, sidErr := uuid.Parse(p.SessionID)
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.SetPassword(ctx, tx, u.ID, newHash, now); err != nil {
			return err
		}
		f := db.RevokeFilter{UserID: u.ID}
		if sidErr == nil {
			f.Except = &sid
		}
		if ended, err = revokeSessions(ctx, tx, f, now, reasonPassword); err != nil {
			return err
		}
		if sidErr != nil {
			out, err = r.startSession(ctx, tx, u)
			return err
		}
		if err := db.RotateLiveRefreshTokens(ctx, tx, sid, now); err != nil {
			return err
		}
		rt, tok := newRefreshToken(sid, now)
		out = &Session{User: u, SessionID: p.SessionID, RefreshToken: tok}
		return db.InsertRefreshToken(ctx, tx, rt)
	})
	if err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	r.revoked(now, ended)
	return r.sign(out)
}

// WatchRevocations loads the sessions whose tokens may still be alive into this
// instance's revocation set and keeps it current: each revocation's NOTIFY adds
// its ids, and after a listener gap (notifications lost) the table is read again.
// ctx bounds the first load.
func (r *Resolver) WatchRevocations(ctx context.Context) error {
	if err := r.loadRevocations(ctx); err != nil {
		return err
	}
	if r.Bus == nil {
		return nil
	}
	reload := func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.loadRevocations(ctx); err != nil && r.Log != nil {
				r.Log.Error("reloading the revoked sessions failed", "err", err.Error())
			}
		}()
	}
	r.Bus.OnNotify(events.SessionsChannel, func(payload string) {
		ev, err := events.DecodeRevoked(payload)
		if err != nil || ev.Reload {
			reload()
			return
		}
		r.revoked(ev.At, ev.IDs)
	})
	r.Bus.OnGap(reload)
	return nil
}

// loadRevocations reads the sessions ended within the access tokens' lifetime.
func (r *Resolver) loadRevocations(ctx context.Context) error {
	rows, err := db.RevokedSince(ctx, r.DB, r.now().Add(-r.Tokens.TTL()))
	if err != nil {
		return err
	}
	for _, s := range rows {
		r.revoked(*s.RevokedAt, []string{s.ID.String()})
	}
	return nil
}

// PurgeSessions deletes what no check needs any more: sessions ended longer ago
// than an access token lives (so none of their tokens can still be presented, and
// the revocation set no longer holds them), and expired refresh tokens (a rotated
// one presented after its expiry is refused as expired, not as reuse).
func (r *Resolver) PurgeSessions(ctx context.Context) (int, error) {
	horizon := RefreshTTL
	if r.Tokens != nil && r.Tokens.TTL() > horizon {
		horizon = r.Tokens.TTL()
	}
	now := r.now()
	return db.PurgeSessions(ctx, r.DB, now.Add(-horizon), now)
}
