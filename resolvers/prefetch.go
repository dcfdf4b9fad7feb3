package resolvers

import (
	"context"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
)

// A list knows all its items at once, so it fills the request's loaders in one query
// per relation before a transport reads the items' relations one by one. Batching
// does not then depend on how fast those reads happen to run: a page of 100 costs
// the same queries as a page of 10. What to bring along is a plain option of each
// list call; the GraphQL adapter derives it from the query's selection.

// MessagePrefetch says which relations of listed messages the caller will read.
type MessagePrefetch struct {
	// Attachments loads each message's attachments with the page (same statement).
	Attachments bool
	// Sender, Template and Conversation fill the loaders in one query each.
	Sender, Template, Conversation bool
}

// ConversationPrefetch says which parts of each listed conversation's summary the
// caller will read; they come in the page's own statement.
type ConversationPrefetch struct {
	Contact, Unread bool
	// LastMessage, when set, brings each conversation's newest message, and the
	// relations of those messages it names.
	LastMessage *MessagePrefetch
	// Labels loads the page's labels in one query, and LabelCounts their
	// conversation counts in one more.
	Labels, LabelCounts bool
	// ContactColumns and LastMessageColumns, when not nil, narrow the contacts' and
	// the newest messages' columns to those (db.SummaryParts): the caller promises
	// that nothing of the request reads other fields of a listed conversation's
	// contact or newest message. Narrowed objects stay on the conversations'
	// summaries; the request's loaders only ever hold whole rows.
	ContactColumns, LastMessageColumns []string
}

// primeConversations fills the loaders a page of conversations will ask with what
// ListConversationSummaries brought along.
func (r *Resolver) primeConversations(ctx context.Context, convs []*db.Conversation, sums []*db.ConversationSummary,
	pf ConversationPrefetch) {
	l, err := r.RequestLoaders(ctx)
	if err != nil || len(convs) == 0 {
		return
	}
	for i, c := range convs {
		c.Summary = sums[i]
		l.Conversations().Prime(c.ID, c)
	}
	var msgs []*db.Message
	for _, s := range sums {
		if pf.Contact && s.Contact != nil && pf.ContactColumns == nil {
			l.Users().Prime(s.Contact.ID, s.Contact)
		}
		if pf.LastMessage != nil {
			if pf.LastMessageColumns == nil {
				l.LastMessages().Prime(s.ConversationID, s.LastMessage)
			}
			if s.LastMessage != nil {
				msgs = append(msgs, s.LastMessage)
			}
		}
		if pf.Unread {
			l.UnreadCounts().Prime(s.ConversationID, s.Unread)
		}
	}
	if pf.LastMessage != nil {
		prefetchMessages(ctx, l, *pf.LastMessage, msgs)
	}
	if pf.Labels {
		ids := make([]int64, len(convs))
		for i, c := range convs {
			ids[i] = c.ID
		}
		labels, _ := l.ConversationLabels().LoadAll(ctx, ids)
		if pf.LabelCounts {
			var lids []int64
			for _, ls := range labels {
				for _, lb := range ls {
					lids = append(lids, lb.ID)
				}
			}
			if len(lids) > 0 {
				_, _ = l.LabelCounts().LoadAll(ctx, lids)
			}
		}
	}
}

// prefetchMessageNodes fills the loaders a page of messages will ask.
func (r *Resolver) prefetchMessageNodes(ctx context.Context, pf MessagePrefetch, msgs []*db.Message) {
	if pf == (MessagePrefetch{}) || len(msgs) == 0 {
		return
	}
	if l, err := r.RequestLoaders(ctx); err == nil {
		prefetchMessages(ctx, l, pf, msgs)
	}
}

func prefetchMessages(ctx context.Context, l *Loaders, pf MessagePrefetch, msgs []*db.Message) {
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
	if pf.Attachments && len(ids) > 0 {
		_, _ = l.Attachments().LoadAll(ctx, ids)
	}
	if pf.Sender && len(senders) > 0 {
		_, _ = l.Users().LoadAll(ctx, senders)
	}
	if pf.Template && len(templates) > 0 {
		_, _ = l.Templates().LoadAll(ctx, templates)
	}
	if pf.Conversation && len(convs) > 0 {
		_, _ = l.Conversations().LoadAll(ctx, convs)
	}
}
