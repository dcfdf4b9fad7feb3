package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// DisplayName is the user's first and last name, or the phone when both are empty.
func (u *User) DisplayName() string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	if u.Phone != nil {
		return *u.Phone
	}
	return ""
}

// Invitation is an invitation to join a company (CONTRACT §5); only the hash of
// its token is stored.
type Invitation struct {
	bun.BaseModel `bun:"table:invitations"`

	ID             int64      `bun:"id,pk,autoincrement"`
	CompanyID      int64      `bun:"company_id,notnull"`
	Email          string     `bun:"email,notnull"`
	FirstName      string     `bun:"first_name,notnull"`
	LastName       string     `bun:"last_name,notnull"`
	Role           string     `bun:"role,notnull"`
	TokenHash      []byte     `bun:"token_hash,notnull"`
	InvitedBy      int64      `bun:"invited_by,notnull"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	ExpiresAt      time.Time  `bun:"expires_at,notnull"`
	AcceptedAt     *time.Time `bun:"accepted_at"`
	AcceptedUserID *int64     `bun:"accepted_user_id"`
	RevokedAt      *time.Time `bun:"revoked_at"`

	// Inviter is the agent who invited (InvitationsOf fills it).
	Inviter *User `bun:"rel:belongs-to,join:invited_by=id"`
}

// Agents returns the company's agents by first then last name; deactivated ones
// only with includeInactive.
func Agents(ctx context.Context, idb bun.IDB, companyID int64, includeInactive bool) ([]*User, error) {
	var us []*User
	q := idb.NewSelect().Model(&us).Where("company_id = ?", companyID).Where("kind = ?", KindAgent)
	if !includeInactive {
		q = q.Where("active")
	}
	if err := q.Order("first_name", "last_name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return us, nil
}

// AgentForUpdate returns an agent of the company, locked until the transaction
// ends, or ErrNotFound.
func AgentForUpdate(ctx context.Context, tx bun.Tx, companyID, userID int64) (*User, error) {
	u := new(User)
	err := tx.NewSelect().Model(u).Where("id = ?", userID).Where("company_id = ?", companyID).
		Where("kind = ?", KindAgent).For("UPDATE").Scan(ctx)
	return u, notFound(err)
}

// SetAgentRoleActive stores an agent's role and active flag.
func SetAgentRoleActive(ctx context.Context, tx bun.Tx, u *User, at time.Time) error {
	_, err := tx.NewUpdate().Model((*User)(nil)).Set("role = ?", u.Role).Set("active = ?", u.Active).
		Set("updated_at = ?", at).Where("id = ?", u.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update agent: %w", err)
	}
	u.UpdatedAt = at
	return nil
}

// EmailTaken reports whether an agent (of any company) has that email.
func EmailTaken(ctx context.Context, idb bun.IDB, email string) (bool, error) {
	return idb.NewSelect().Model((*User)(nil)).Where("lower(email) = lower(?)", email).Exists(ctx)
}

// ReplaceInvitation revokes the open invitation of the company to that email, if
// any, and stores inv.
func ReplaceInvitation(ctx context.Context, tx bun.Tx, inv *Invitation, at time.Time) error {
	if _, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", at).
		Where("company_id = ?", inv.CompanyID).Where("lower(email) = lower(?)", inv.Email).
		Where("accepted_at IS NULL").Where("revoked_at IS NULL").Exec(ctx); err != nil {
		return fmt.Errorf("replace invitation: %w", err)
	}
	if _, err := tx.NewInsert().Model(inv).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert invitation: %w", err)
	}
	return nil
}

// PendingInvitations returns the company's invitations neither accepted, revoked
// nor expired at now, newest first, with their inviter.
func PendingInvitations(ctx context.Context, idb bun.IDB, companyID int64, now time.Time) ([]*Invitation, error) {
	var out []*Invitation
	err := idb.NewSelect().Model(&out).Relation("Inviter").
		Where("invitation.company_id = ?", companyID).Where("invitation.accepted_at IS NULL").
		Where("invitation.revoked_at IS NULL").Where("invitation.expires_at > ?", now).
		Order("invitation.created_at DESC", "invitation.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation revokes a pending invitation of the company and reports whether
// there was one.
func RevokeInvitation(ctx context.Context, idb bun.IDB, companyID, id int64, now time.Time) (bool, error) {
	res, err := idb.NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", now).
		Where("id = ?", id).Where("company_id = ?", companyID).Where("accepted_at IS NULL").
		Where("revoked_at IS NULL").Where("expires_at > ?", now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke invitation: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UseInvitation marks the pending invitation with that token hash accepted at now
// and returns it, or ErrNotFound when no pending one has it. The row stays locked
// until the transaction ends, so of two concurrent accepts one finds it used.
func UseInvitation(ctx context.Context, tx bun.Tx, hash []byte, now time.Time) (*Invitation, error) {
	inv := new(Invitation)
	err := tx.NewUpdate().Model(inv).Set("accepted_at = ?", now).
		Where("token_hash = ?", hash).Where("accepted_at IS NULL").Where("revoked_at IS NULL").
		Where("expires_at > ?", now).Returning("*").Scan(ctx)
	return inv, notFound(err)
}

// SetInvitationUser records the agent an accepted invitation created.
func SetInvitationUser(ctx context.Context, tx bun.Tx, id, userID int64) error {
	_, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("accepted_user_id = ?", userID).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("invitation user: %w", err)
	}
	return nil
}
