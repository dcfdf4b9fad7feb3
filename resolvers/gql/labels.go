package gql

import (
	"context"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// Labels and canned responses (CONTRACT §6): ids parsed, one business call each.

func (r *mutationResolver) changeLabels(ctx context.Context, conversationID string, names []string, add bool) (*db.Conversation, error) {
	cid, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return nil, err
	}
	if add {
		return r.Resolver.AddLabels(ctx, cid, names)
	}
	return r.Resolver.RemoveLabels(ctx, cid, names)
}

func (r *mutationResolver) updateLabel(ctx context.Context, id string, name, color *string) (*db.Label, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return nil, err
	}
	return r.Resolver.UpdateLabel(ctx, resolvers.LabelChange{ID: n, Name: name, Color: color})
}

func (r *mutationResolver) deleteLabel(ctx context.Context, id string) (bool, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return false, err
	}
	return r.Resolver.DeleteLabel(ctx, n)
}

func (r *mutationResolver) updateCannedResponse(ctx context.Context, in model.UpdateCannedResponseInput) (*db.CannedResponse, error) {
	n, err := resolvers.ParseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.UpdateCannedResponse(ctx, resolvers.CannedChange{ID: n, ShortCode: in.ShortCode, Content: in.Content})
}

func (r *mutationResolver) deleteCannedResponse(ctx context.Context, id string) (bool, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return false, err
	}
	return r.Resolver.DeleteCannedResponse(ctx, n)
}

func (r *queryResolver) renderCannedResponse(ctx context.Context, id, conversationID string) (string, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return "", err
	}
	cid, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return "", err
	}
	return r.Resolver.RenderCannedResponse(ctx, n, cid)
}
