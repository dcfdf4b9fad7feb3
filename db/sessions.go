package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Session is one sign-in of an agent (CONTRACT §5).
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID               uuid.UUID  `bun:"id,pk,type:uuid"`
	CompanyID        int64      `bun:"company_id,notnull"`
	UserID           int64      `bun:"user_id,notnull"`
	CreatedAt        time.Time  `bun:"created_at,notnull"`
	LastUsedAt       time.Time  `bun:"last_used_at,notnull"`
	RefreshExpiresAt time.Time  `bun:"refresh_expires_at,notnull"`
	RevokedAt        *time.Time `bun:"revoked_at"`
	RevokedReason    *string    `bun:"revoked_reason"`
}

// RefreshToken is the hash of one refresh token of a session.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	TokenHash  []byte     `bun:"token_hash,pk"`
	SessionID  uuid.UUID  `bun:"session_id,notnull,type:uuid"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	RotatedAt  *time.Time `bun:"rotated_at"`
	ReplacedBy []byte     `bun:"replaced_by"`
}

// InsertSession stores a new session and its first refresh token.
func InsertSession(ctx context.Context, idb bun.IDB, s *Session, rt *RefreshToken) error {
	if _, err := idb.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	if _, err := idb.NewInsert().Model(rt).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// RefreshTokenByHash returns the refresh token with that hash, or ErrNotFound.
func RefreshTokenByHash(ctx context.Context, idb bun.IDB, hash []byte) (*RefreshToken, error) {
	rt := new(RefreshToken)
	err := idb.NewSelect().Model(rt).Where("token_hash = ?", hash).Scan(ctx)
	return rt, notFound(err)
}

// LockSession returns the session, locked until the transaction ends (so two
// refreshes of one session run one after the other), or ErrNotFound.
func LockSession(ctx context.Context, tx bun.Tx, id uuid.UUID) (*Session, error) {
	s := new(Session)
	err := tx.NewSelect().Model(s).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return s, notFound(err)
}

// RotateRefreshToken marks old rotated (replaced by next), stores next and notes
// the session's use.
func RotateRefreshToken(ctx context.Context, tx bun.Tx, old, next *RefreshToken) error {
	if _, err := tx.NewUpdate().Model((*RefreshToken)(nil)).
		Set("rotated_at = ?", next.CreatedAt).Set("replaced_by = ?", next.TokenHash).
		Where("token_hash = ?", old.TokenHash).Exec(ctx); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if _, err := tx.NewInsert().Model(next).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*Session)(nil)).
		Set("last_used_at = ?", next.CreatedAt).Set("refresh_expires_at = ?", next.ExpiresAt).
		Where("id = ?", next.SessionID).Exec(ctx); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// RotateLiveRefreshTokens marks every live refresh token of the session rotated,
// so presenting one later is reuse (a password change hands out a new one).
func RotateLiveRefreshTokens(ctx context.Context, tx bun.Tx, sessionID uuid.UUID, at time.Time) error {
	_, err := tx.NewUpdate().Model((*RefreshToken)(nil)).Set("rotated_at = ?", at).
		Where("session_id = ?", sessionID).Where("rotated_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("rotate refresh tokens: %w", err)
	}
	return nil
}

// InsertRefreshToken stores a refresh token of an existing session and extends the
// session's refresh expiry to it.
func InsertRefreshToken(ctx context.Context, tx bun.Tx, rt *RefreshToken) error {
	if _, err := tx.NewInsert().Model(rt).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	_, err := tx.NewUpdate().Model((*Session)(nil)).
		Set("last_used_at = ?", rt.CreatedAt).Set("refresh_expires_at = ?", rt.ExpiresAt).
		Where("id = ?", rt.SessionID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// RevokeFilter selects the live sessions RevokeSessions ends.
type RevokeFilter struct {
	// SessionID, when set, is the one session.
	SessionID *uuid.UUID
	// UserID, when set, is every session of the agent.
	UserID int64
	// Except keeps that session (a password change keeps the caller's).
	Except *uuid.UUID
}

// RevokeSessions ends the live sessions f selects and returns their ids.
func RevokeSessions(ctx context.Context, idb bun.IDB, f RevokeFilter, at time.Time, reason string) ([]uuid.UUID, error) {
	q := idb.NewUpdate().Model((*Session)(nil)).
		Set("revoked_at = ?", at).Set("revoked_reason = ?", reason).
		Where("revoked_at IS NULL").Returning("id")
	switch {
	case f.SessionID != nil:
		q = q.Where("id = ?", *f.SessionID)
	case f.UserID > 0:
		q = q.Where("user_id = ?", f.UserID)
	default:
		return nil, fmt.Errorf("revoke sessions: no filter")
	}
	if f.Except != nil {
		q = q.Where("id <> ?", *f.Except)
	}
	var ids []uuid.UUID
	if _, err := q.Exec(ctx, &ids); err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	return ids, nil
}

// RevokedSince returns the sessions revoked at or after since, with when.
func RevokedSince(ctx context.Context, idb bun.IDB, since time.Time) ([]Session, error) {
	var out []Session
	err := idb.NewSelect().Model(&out).Column("id", "revoked_at").
		Where("revoked_at >= ?", since).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoked sessions: %w", err)
	}
	return out, nil
}

// PurgeSessions deletes the sessions that ended (revoked or unused past their
// refresh expiry) before before, with their refresh tokens, and the refresh tokens
// that expired before now. It returns how many rows went.
func PurgeSessions(ctx context.Context, idb bun.IDB, before, now time.Time) (int, error) {
	res, err := idb.NewDelete().Model((*Session)(nil)).
		Where("revoked_at < ? OR refresh_expires_at < ?", before, before).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = idb.NewDelete().Model((*RefreshToken)(nil)).Where("expires_at < ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	m, _ := res.RowsAffected()
	return int(n + m), nil
}
