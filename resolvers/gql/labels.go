package gql

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// Labels and canned responses (CONTRACT §6): ids parsed, one business call each.

// labels lists the company's labels; when their conversationCount is selected, the
// counts come in one query (whatever the timing of the items' resolvers).
func (r *queryResolver) labels(ctx context.Context) ([]*db.Label, error) {
	ls, err := r.Resolver.Labels(ctx)
	if err != nil || len(ls) == 0 {
		return ls, err
	}
	wants := graphql.GetFieldContext(ctx) == nil
	if !wants {
		for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
			wants = wants || f.Name == "conversationCount"
		}
	}
	if wants {
		ids := make([]int64, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		if l, err := r.RequestLoaders(ctx); err == nil {
			_, _ = l.LabelCounts().LoadAll(ctx, ids)
		}
	}
	return ls, nil
}

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
