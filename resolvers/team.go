package resolvers

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/phone"
)

// The team (CONTRACT §5): OWNER and ADMIN manage it; everyone reads it.

// InvitationTTL is how long an invitation stays valid.
const InvitationTTL = 7 * 24 * time.Hour

// InvalidInvitationMessage is the one answer to an unknown, used, revoked or
// expired invitation token, so an answer tells nothing of which.
const InvalidInvitationMessage = "this invitation is not valid (unknown, used, revoked or expired)"

// InviteInput is what inviting an agent takes.
type InviteInput struct {
	Email     string
	FirstName string
	LastName  string
	Role      string
}

// AcceptInput is what accepting an invitation takes; Phone is optional.
type AcceptInput struct {
	Token    string
	Password string
	Phone    *string
}

// AgentChange is updateAgent's input: at least one of Role and Active.
type AgentChange struct {
	ID     int64
	Role   *string
	Active *bool
}

// manager returns the caller when it may manage the team (OWNER or ADMIN), else
// UNAUTHENTICATED or FORBIDDEN. The role comes from the token: a role change ends
// the agent's sessions, so a token's role is current.
func manager(ctx context.Context) (*auth.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Role != db.RoleOwner && p.Role != db.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "only the OWNER and ADMINs manage the team")
	}
	return p, nil
}

// Agents returns the caller's company's agents, by first then last name.
func (r *Resolver) Agents(ctx context.Context, includeInactive bool) ([]*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return db.Agents(ctx, r.DB, p.CompanyID, includeInactive)
}

// Invitations returns the company's pending invitations (OWNER and ADMIN only).
func (r *Resolver) Invitations(ctx context.Context) ([]*db.Invitation, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	return db.PendingInvitations(ctx, r.DB, p.CompanyID, r.now())
}

// InviteAgent invites an agent into the caller's company and returns the
// invitation and its token (shown once; only its hash is kept). Inviting an email
// with a pending invitation replaces that invitation.
func (r *Resolver) InviteAgent(ctx context.Context, in InviteInput) (*db.Invitation, string, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, "", err
	}
	var v apperr.Validation
	for field, val := range map[string]string{"email": in.Email, "firstName": in.FirstName, "lastName": in.LastName} {
		if err := checkText(field, val, 1024); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
	}
	requireText(&v, "firstName", in.FirstName)
	requireText(&v, "lastName", in.LastName)
	email := strings.TrimSpace(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxNameLength {
		v.Addf("email must be an email")
	}
	if in.Role != db.RoleAdmin && in.Role != db.RoleAgent {
		v.Addf("role must be ADMIN or AGENT")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	taken, err := db.EmailTaken(ctx, r.DB, email)
	if err != nil {
		return nil, "", err
	}
	if taken {
		return nil, "", apperr.New(apperr.Conflict, "email already belongs to an agent")
	}
	now := r.now()
	tok, hash := newSecret()
	inv := &db.Invitation{CompanyID: p.CompanyID, Email: email, FirstName: strings.TrimSpace(in.FirstName),
		LastName: strings.TrimSpace(in.LastName), Role: in.Role, TokenHash: hash, InvitedBy: p.UserID,
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.ReplaceInvitation(ctx, tx, inv, now); err != nil {
			return err
		}
		inv.Inviter, err = db.UserByID(ctx, tx, p.CompanyID, p.UserID)
		return err
	})
	if db.IsUniqueViolation(err) {
		// Another invite of the same email committed meanwhile.
		return nil, "", apperr.New(apperr.Conflict, "this email is being invited at this moment; try again")
	}
	if err != nil {
		return nil, "", fmt.Errorf("invite agent: %w", err)
	}
	return inv, tok, nil
}

// RevokeInvitation revokes a pending invitation of the caller's company (OWNER and
// ADMIN only); NOT_FOUND when there is no pending one with that id.
func (r *Resolver) RevokeInvitation(ctx context.Context, id int64) (bool, error) {
	p, err := manager(ctx)
	if err != nil {
		return false, err
	}
	ok, err := db.RevokeInvitation(ctx, r.DB, p.CompanyID, id, r.now())
	if err != nil {
		return false, err
	}
	if !ok {
		return false, apperr.New(apperr.NotFound, "no pending invitation with this id")
	}
	return true, nil
}

// AcceptInvitation creates the invited agent in the inviting company with the
// invited role and signs it in. The token is used up only by an accept that
// succeeds: the input is checked first, and the whole accept is one transaction.
func (r *Resolver) AcceptInvitation(ctx context.Context, in AcceptInput) (*Session, error) {
	if err := r.allowAuthAttempt(ctx, "acceptInvitation"); err != nil {
		return nil, err
	}
	var v apperr.Validation
	checkPassword(&v, "password", in.Password)
	var ph *string
	if in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
		n, err := phone.Normalize(*in.Phone)
		if err != nil {
			v.Addf("phone %s", err)
		}
		ph = &n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Token == "" || len(in.Token) > maxSecretLength {
		return nil, apperr.Invalidf("%s", InvalidInvitationMessage)
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	errInvalid := errors.New("invalid invitation")
	var s *Session
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		inv, err := db.UseInvitation(ctx, tx, hashSecret(in.Token), r.now())
		if errors.Is(err, db.ErrNotFound) || err == nil && !sameHash(inv.TokenHash, hashSecret(in.Token)) {
			return errInvalid
		}
		if err != nil {
			return err
		}
		role := inv.Role
		email := inv.Email
		u := &db.User{CompanyID: inv.CompanyID, Kind: db.KindAgent, Role: &role, FirstName: inv.FirstName,
			LastName: inv.LastName, Phone: ph, Email: &email, PasswordHash: &hash}
		if err := db.InsertUser(ctx, tx, u); err != nil {
			return err
		}
		if err := db.SetInvitationUser(ctx, tx, inv.ID, u.ID); err != nil {
			return err
		}
		s, err = r.startSession(ctx, tx, u)
		return err
	})
	switch {
	case errors.Is(err, errInvalid):
		return nil, apperr.Invalidf("%s", InvalidInvitationMessage)
	case db.IsUniqueViolation(err):
		return nil, apperr.New(apperr.Conflict, "email is already registered")
	case err != nil:
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	return r.sign(s)
}

// UpdateAgent changes an agent's role or active flag (OWNER and ADMIN only). The
// OWNER cannot be changed (FORBIDDEN), nobody changes their own role or
// deactivates themselves, and OWNER cannot be given (BAD_USER_INPUT). A role change
// or a deactivation ends the agent's sessions; a reactivation revives none.
func (r *Resolver) UpdateAgent(ctx context.Context, in AgentChange) (*db.User, error) {
	p, err := manager(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Role == nil && in.Active == nil:
		return nil, apperr.Invalidf("give role or active")
	case in.Role != nil && *in.Role == db.RoleOwner:
		return nil, apperr.Invalidf("role OWNER cannot be given")
	case in.Role != nil && *in.Role != db.RoleAdmin && *in.Role != db.RoleAgent:
		return nil, apperr.Invalidf("role must be ADMIN or AGENT")
	}
	now := r.now()
	var (
		u     *db.User
		ended []string
	)
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		u, err = db.AgentForUpdate(ctx, tx, p.CompanyID, in.ID)
		if errors.Is(err, db.ErrNotFound) {
			return apperr.New(apperr.NotFound, "no agent with this id in your company")
		}
		if err != nil {
			return err
		}
		if u.Role != nil && *u.Role == db.RoleOwner {
			return apperr.New(apperr.Forbidden, "the OWNER cannot be changed")
		}
		if u.ID == p.UserID && (in.Role != nil || in.Active != nil && !*in.Active) {
			return apperr.Invalidf("you cannot change your own role or deactivate yourself")
		}
		reason := ""
		if in.Role != nil && (u.Role == nil || *u.Role != *in.Role) {
			role := *in.Role
			u.Role, reason = &role, reasonRoleChanged
		}
		if in.Active != nil {
			if u.Active && !*in.Active {
				reason = reasonDeactivated
			}
			u.Active = *in.Active
		}
		if err := db.SetAgentRoleActive(ctx, tx, u, now); err != nil {
			return err
		}
		if reason == reasonDeactivated {
			// A deactivated agent works nothing: its conversations become unassigned.
			convs, err := db.UnassignAgent(ctx, tx, p.CompanyID, u.ID)
			if err != nil {
				return err
			}
			if err := publishConversations(ctx, tx, convs); err != nil {
				return err
			}
		}
		if reason != "" {
			ended, err = revokeSessions(ctx, tx, db.RevokeFilter{UserID: u.ID}, now, reason)
		}
		return err
	})
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, fmt.Errorf("update agent: %w", err)
	}
	r.revoked(now, ended)
	return u, nil
}
