package gql

import (
	"context"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// The team's workflow (CONTRACT §6): thin conversions onto the business layer.

// workflowFilter copies the status and assignee conditions of a conversation filter.
func workflowFilter(in *model.ConversationFilter, f *resolvers.ConversationFilter) error {
	if in == nil {
		return nil
	}
	f.Statuses = in.Status
	if in.Assignee != nil {
		f.Assignee = *in.Assignee
	}
	id, err := resolvers.ParseOptionalID("assigneeId", in.AssigneeID)
	f.AssigneeID = id
	return err
}

func (r *conversationResolver) assignee(ctx context.Context, obj *db.Conversation) (*db.User, error) {
	if obj.AssigneeID == nil {
		return nil, nil
	}
	l, err := r.conversationLoaders(ctx, obj)
	if err != nil {
		return nil, err
	}
	return l.Users().Load(ctx, *obj.AssigneeID)
}

func (r *mutationResolver) setConversationStatus(ctx context.Context, conversationID, status string, snoozedUntil *time.Time) (*db.Conversation, error) {
	id, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.SetConversationStatus(ctx, id, status, snoozedUntil)
}

func (r *mutationResolver) assignConversation(ctx context.Context, conversationID string, assigneeID *string) (*db.Conversation, error) {
	id, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return nil, err
	}
	agent, err := resolvers.ParseOptionalID("assigneeId", assigneeID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.AssignConversation(ctx, id, agent)
}

func (r *mutationResolver) claimConversation(ctx context.Context, conversationID string) (*db.Conversation, error) {
	id, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.ClaimConversation(ctx, id)
}

func (r *mutationResolver) addNote(ctx context.Context, conversationID, text string) (*db.Message, error) {
	id, err := resolvers.ParseID("conversationId", conversationID)
	if err != nil {
		return nil, err
	}
	return r.Resolver.AddNote(ctx, id, text)
}

func (r *conversationResolver) conversationLabels(ctx context.Context, obj *db.Conversation) ([]*db.Label, error) {
	if _, err := r.conversationLoaders(ctx, obj); err != nil {
		return nil, err
	}
	return r.ConversationLabels(ctx, obj)
}
