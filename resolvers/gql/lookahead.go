package gql

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/connectme/connectme/resolvers"
)

// Look-ahead: a connection's resolver reads what the query selects below it, so the
// business call counts the total only when totalCount is asked and brings along, in
// batches, the relations the nodes will ask for. It is the only place that reads a
// selection.

// selection returns the selections at path below the current field, or nil when the
// client did not ask for it.
func selection(ctx context.Context, path ...string) ast.SelectionSet {
	fc := graphql.GetFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	if fc == nil || oc == nil {
		return nil
	}
	set := fc.Field.Selections
	for _, name := range path {
		var next ast.SelectionSet
		for _, f := range graphql.CollectFields(oc, set, nil) {
			if f.Name == name {
				next = append(next, f.Selections...)
			}
		}
		if next == nil {
			return nil
		}
		set = next
	}
	return set
}

// has returns the selections below the field name of set: nil when it is not
// selected, empty when it is a leaf.
func has(ctx context.Context, set ast.SelectionSet, name string) ast.SelectionSet {
	if set == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	var out ast.SelectionSet
	found := false
	for _, f := range graphql.CollectFields(oc, set, nil) {
		if f.Name == name {
			found = true
			out = append(out, f.Selections...)
		}
	}
	if found && out == nil {
		out = ast.SelectionSet{}
	}
	return out
}

// wantsTotal reports whether the selection asks for totalCount, so lists only count
// when a client wants the number.
func wantsTotal(ctx context.Context) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

// messagePrefetch is what a selection of Message fields will read.
func messagePrefetch(ctx context.Context, node ast.SelectionSet) resolvers.MessagePrefetch {
	if node == nil {
		return resolvers.MessagePrefetch{}
	}
	return resolvers.MessagePrefetch{
		Attachments:  has(ctx, node, "attachments") != nil,
		Sender:       has(ctx, node, "sender") != nil,
		Template:     has(ctx, node, "template") != nil,
		Conversation: has(ctx, node, "conversation") != nil,
	}
}

// nodePrefetch is what a message connection's nodes will read.
func nodePrefetch(ctx context.Context) resolvers.MessagePrefetch {
	return messagePrefetch(ctx, selection(ctx, "edges", "node"))
}

// conversationPrefetch is what a conversation connection's nodes will read.
func conversationPrefetch(ctx context.Context) resolvers.ConversationPrefetch {
	node := selection(ctx, "edges", "node")
	if node == nil {
		return resolvers.ConversationPrefetch{}
	}
	pf := resolvers.ConversationPrefetch{Contact: has(ctx, node, "contact") != nil, Unread: has(ctx, node, "unreadCount") != nil}
	if labels := has(ctx, node, "labels"); labels != nil {
		pf.Labels, pf.LabelCounts = true, has(ctx, labels, "conversationCount") != nil
	}
	if last := has(ctx, node, "lastMessage"); last != nil {
		m := messagePrefetch(ctx, last)
		pf.LastMessage = &m
	}
	return pf
}
