package gql

import (
	"context"
	"strconv"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// invitationModel converts an invitation; token is set only in inviteAgent's answer.
func invitationModel(inv *db.Invitation, token *string) *model.Invitation {
	return &model.Invitation{ID: strconv.FormatInt(inv.ID, 10), Email: inv.Email, FirstName: inv.FirstName,
		LastName: inv.LastName, Role: inv.Role, ExpiresAt: inv.ExpiresAt, InvitedBy: inv.Inviter, Token: token}
}

// sessionPayload converts the answer of a sign-in.
func sessionPayload(s *resolvers.Session, err error) (*model.AuthPayload, error) {
	if err != nil {
		return nil, err
	}
	return authPayload(s), nil
}

func (r *mutationResolver) inviteAgent(ctx context.Context, in model.InviteAgentInput) (*model.Invitation, error) {
	inv, tok, err := r.Resolver.InviteAgent(ctx, resolvers.InviteInput{Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Role: in.Role})
	if err != nil {
		return nil, err
	}
	return invitationModel(inv, &tok), nil
}

func (r *mutationResolver) updateAgent(ctx context.Context, in model.UpdateAgentInput) (*db.User, error) {
	id, err := resolvers.ParseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.UpdateAgent(ctx, resolvers.AgentChange{ID: id, Role: in.Role, Active: in.Active})
}

func (r *mutationResolver) revokeInvitation(ctx context.Context, id string) (bool, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return false, err
	}
	return r.Resolver.RevokeInvitation(ctx, n)
}

func (r *queryResolver) invitations(ctx context.Context) ([]*model.Invitation, error) {
	invs, err := r.Resolver.Invitations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Invitation, len(invs))
	for i, inv := range invs {
		out[i] = invitationModel(inv, nil)
	}
	return out, nil
}
