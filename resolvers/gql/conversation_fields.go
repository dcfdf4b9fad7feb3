package gql

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
)

// A Conversation resolves its fields one after the other (cmd/gqlgen's inline
// plugin): a conversation of a list, of conversation(id) or of conversationUpdated
// carries its summary, so contact, lastMessage and unreadCount are at hand. One that
// does not (a mutation's answer, message.conversation) reads them through the
// request's loaders; so that those reads, made one after the other, wait for one
// batch rather than one each, the first of them puts every loader read the query
// asks of the conversation into the loaders' current batches before it waits.

// startConversationLoads enqueues the loader reads of obj's fields that the query
// selects (without waiting for them). Each loader keeps its pending reads by key, so
// the resolvers' own Load calls then join these.
func startConversationLoads(ctx context.Context, l *resolvers.Loaders, obj *db.Conversation) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return
	}
	// The conversation's selection is that of the field that gave the object (a
	// list element's field context has no field of its own: go up to the list's).
	parent := fc.Parent
	for parent != nil && parent.Field.Field == nil {
		parent = parent.Parent
	}
	if parent == nil {
		return
	}
	sel := parent.Field.Selections
	var loaded db.SummaryParts // what the conversation's summary already holds
	if obj.Summary != nil {
		loaded = obj.Summary.Loaded
	}
	if !loaded.Contact && has(ctx, sel, "contact") != nil {
		l.Users().LoadThunk(ctx, obj.UserID)
	}
	if !loaded.LastMessage && has(ctx, sel, "lastMessage") != nil {
		l.LastMessages().LoadThunk(ctx, obj.ID)
	}
	if !loaded.Unread && has(ctx, sel, "unreadCount") != nil {
		l.UnreadCounts().LoadThunk(ctx, obj.ID)
	}
	if obj.AssigneeID != nil && has(ctx, sel, "assignee") != nil {
		l.Users().LoadThunk(ctx, *obj.AssigneeID)
	}
	if has(ctx, sel, "labels") != nil {
		l.ConversationLabels().LoadThunk(ctx, obj.ID)
	}
}

// conversationLoaders returns the request's loaders with obj's selected reads
// started.
func (r *Resolver) conversationLoaders(ctx context.Context, obj *db.Conversation) (*resolvers.Loaders, error) {
	l, err := r.RequestLoaders(ctx)
	if err != nil {
		return nil, err
	}
	startConversationLoads(ctx, l, obj)
	return l, nil
}

// wantsSummary reports whether the current field's selection (a Conversation) asks
// for a part of the conversation's summary.
func wantsSummary(ctx context.Context) bool {
	sel := selection(ctx)
	return has(ctx, sel, "contact") != nil || has(ctx, sel, "lastMessage") != nil || has(ctx, sel, "unreadCount") != nil
}
