package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/connectme/connectme/db"
)

// A connection knows all its nodes at once, so it fills the loaders in one query per
// relation before gqlgen resolves the nodes one by one. Batching does not then
// depend on how fast the node resolvers happen to run: a page of 100 costs the same
// queries as a page of 10.

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

func has(ctx context.Context, set ast.SelectionSet, name string) ast.SelectionSet {
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

// conversationParts says which summary parts the page's nodes ask for, and the
// selection of their lastMessage (nil when not asked).
func conversationParts(ctx context.Context) (db.SummaryParts, ast.SelectionSet) {
	node := selection(ctx, "edges", "node")
	if node == nil {
		return db.SummaryParts{}, nil
	}
	last := has(ctx, node, "lastMessage")
	return db.SummaryParts{Contact: has(ctx, node, "contact") != nil, LastMessage: last != nil,
		Unread: has(ctx, node, "unreadCount") != nil}, last
}

// primeConversations fills the loaders a page of conversations will ask with what
// ListConversationSummaries brought along.
func (r *Resolver) primeConversations(ctx context.Context, convs []*db.Conversation, sums []*db.ConversationSummary,
	parts db.SummaryParts, last ast.SelectionSet) {
	l, err := r.loaders(ctx)
	if err != nil || len(convs) == 0 {
		return
	}
	for _, c := range convs {
		l.Conversations.Prime(c.ID, c)
	}
	var msgs []*db.Message
	for _, s := range sums {
		if parts.Contact && s.Contact != nil {
			l.Users.Prime(s.Contact.ID, s.Contact)
		}
		if parts.LastMessage {
			l.LastMessages.Prime(s.ConversationID, s.LastMessage)
			if s.LastMessage != nil {
				msgs = append(msgs, s.LastMessage)
			}
		}
		if parts.Unread {
			l.UnreadCounts.Prime(s.ConversationID, s.Unread)
		}
	}
	if last != nil {
		r.prefetchMessages(ctx, l, last, msgs)
	}
}

// prefetchMessageNodes fills the loaders a page of messages will ask.
func (r *Resolver) prefetchMessageNodes(ctx context.Context, msgs []*db.Message) {
	node := selection(ctx, "edges", "node")
	if node == nil || len(msgs) == 0 {
		return
	}
	if l, err := r.loaders(ctx); err == nil {
		r.prefetchMessages(ctx, l, node, msgs)
	}
}

func (r *Resolver) prefetchMessages(ctx context.Context, l *Loaders, node ast.SelectionSet, msgs []*db.Message) {
	var ids []uuid.UUID
	var senders, templates, convs []int64
	for _, m := range msgs {
		if m == nil {
			continue
		}
		if m.Attachments == nil {
			// Not loaded with the message (a page may bring them along).
			ids = append(ids, m.ID)
		}
		convs = append(convs, m.ConversationID)
		if m.SenderID != nil {
			senders = append(senders, *m.SenderID)
		}
		if m.TemplateID != nil {
			templates = append(templates, *m.TemplateID)
		}
	}
	if has(ctx, node, "attachments") != nil && len(ids) > 0 {
		_, _ = l.Attachments.LoadAll(ctx, ids)
	}
	if has(ctx, node, "sender") != nil && len(senders) > 0 {
		_, _ = l.Users.LoadAll(ctx, senders)
	}
	if has(ctx, node, "template") != nil && len(templates) > 0 {
		_, _ = l.Templates.LoadAll(ctx, templates)
	}
	if has(ctx, node, "conversation") != nil && len(convs) > 0 {
		_, _ = l.Conversations.LoadAll(ctx, convs)
	}
}
