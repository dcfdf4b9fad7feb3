package gql

import (
	"context"
	"slices"

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
	if pf.Contact || pf.LastMessage != nil {
		pf.ContactColumns, pf.LastMessageColumns = narrowColumns(ctx)
	}
	return pf
}

// userColumns and messageColumns are the columns each field of User and Message
// reads besides the key columns (db.ContactKeyColumns, db.MessageKeyColumns). A
// field missing here (a new one) reads every column.
var (
	userColumns = map[string][]string{
		"__typename": nil, "id": nil, "company": nil, "active": nil,
		"firstName": {"first_name"}, "lastName": {"last_name"}, "phone": {"phone"}, "email": {"email"}, "role": {"role"},
	}
	messageColumns = map[string][]string{
		"__typename": nil, "id": nil, "conversation": nil, "direction": nil, "type": nil, "datetime": nil, "status": nil,
		"cursor": nil, "attachments": nil,
		"content": {"content"}, "errorCode": {"error_code"}, "sender": {"sender_id"},
		"template": {"template_id", "template_params"}, "replyTo": {"reply_to_sid"}, "location": {"location"},
		"interactiveReply": {"interactive_reply"}, "referral": {"referral"}, "clientMessageId": {"client_message_id"},
		"sentAt": {"sent_at"}, "deliveredAt": {"delivered_at"}, "readAt": {"read_at"}, "readBy": {"read_by"},
	}
)

// narrowColumns returns the columns a query reads of any User and of any Message
// (nil: every column): the fields selected on each type anywhere in the operation,
// fragments included, mapped to their columns. Anywhere, not only below the list:
// a listed conversation's contact may also be reached as a message's sender, or
// the conversation itself through another field, and each path then gets the
// object of the summary. Only queries narrow: a mutation's business logic may read
// what its answer does not select.
func narrowColumns(ctx context.Context) (user, message []string) {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil, nil
	}
	fields := map[string]map[string]bool{"User": {}, "Message": {}}
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.ObjectDefinition != nil {
					if names, ok := fields[s.ObjectDefinition.Name]; ok {
						names[s.Name] = true
					}
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if !seen[s.Name] && s.Definition != nil {
					seen[s.Name] = true
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	walk(oc.Operation.SelectionSet)
	return columnsOf(fields["User"], userColumns), columnsOf(fields["Message"], messageColumns)
}

// columnsOf maps selected fields to columns: nil when a field is not in the map.
func columnsOf(selected map[string]bool, m map[string][]string) []string {
	cols := []string{}
	for name := range selected {
		c, ok := m[name]
		if !ok {
			return nil
		}
		cols = append(cols, c...)
	}
	slices.Sort(cols)
	return slices.Compact(cols)
}
