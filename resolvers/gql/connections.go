package gql

import (
	"context"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// Relay connections over the business layer's pages: the arguments become a
// PageRequest (cursors decoded to keyset positions), the page becomes edges with
// their cursors, and pageInfo.

// window is a connection's arguments as a business page request; decode turns a
// client's cursor into a keyset position (nil for nil).
func window[C any](first *int, after *string, last *int, before *string, decode func(*string) (*C, error)) (resolvers.PageRequest[C], error) {
	req := resolvers.PageRequest[C]{First: first, Last: last}
	var err error
	if req.After, err = decode(after); err != nil {
		return req, err
	}
	req.Before, err = decode(before)
	return req, err
}

// edges makes a connection's edges from a page's items, and its page info: edge
// fills in an edge. The page's edges are one allocation, as are its first and
// last cursors, rather than one of each per item.
func edges[T, E any](pg *resolvers.Page[T], cursor func(T) string, edge func(e *E, cursor string, node T)) ([]*E, *model.PageInfo) {
	all := make([]E, len(pg.Items))
	out := make([]*E, len(pg.Items))
	pi := &model.PageInfo{HasNextPage: pg.HasNext, HasPreviousPage: pg.HasPrevious}
	var ends *[2]string
	for i, n := range pg.Items {
		c := cursor(n)
		edge(&all[i], c, n)
		out[i] = &all[i]
		if i == 0 {
			ends = new([2]string)
			ends[0] = c
			pi.StartCursor = &ends[0]
		}
		if i == len(pg.Items)-1 {
			ends[1] = c
			pi.EndCursor = &ends[1]
		}
	}
	return out, pi
}

// messages is a conversation's message connection.
func (r *Resolver) messages(ctx context.Context, conversationID int64, first *int, after *string, last *int, before *string) (*model.MessageConnection, error) {
	req, err := window(first, after, last, before, decodeMessageCursor)
	if err != nil {
		return nil, err
	}
	// The page's messages are nobody else's (no loader holds them): they may be
	// narrowed to the columns the query reads of its messages.
	_, cols := narrowColumns(ctx)
	pg, err := r.ListMessages(ctx, conversationID, req, resolvers.MessageOptions{Total: wantsTotal(ctx), Prefetch: nodePrefetch(ctx), Columns: cols})
	if err != nil {
		return nil, err
	}
	conn := &model.MessageConnection{TotalCount: pg.Total}
	conn.Edges, conn.PageInfo = edges(pg, messageCursor, messageEdge)
	return conn, nil
}

// search is the search results' message connection.
func (r *Resolver) search(ctx context.Context, term string, first *int, after *string) (*model.MessageConnection, error) {
	req, err := window(first, after, nil, nil, decodeSearchCursor)
	if err != nil {
		return nil, err
	}
	pg, err := r.SearchMessages(ctx, term, req, resolvers.SearchOptions{Total: wantsTotal(ctx), Prefetch: nodePrefetch(ctx)})
	if err != nil {
		return nil, err
	}
	conn := &model.MessageConnection{TotalCount: pg.Total}
	conn.Edges, conn.PageInfo = edges(pg, searchCursor, func(e *model.MessageEdge, c string, h *db.SearchHit) {
		messageEdge(e, c, &h.Message)
	})
	return conn, nil
}

func messageEdge(e *model.MessageEdge, c string, m *db.Message) { e.Cursor, e.Node = c, m }

// conversations is the inbox's conversation connection.
func (r *Resolver) conversations(ctx context.Context, f resolvers.ConversationFilter, first *int, after *string) (*model.ConversationConnection, error) {
	req, err := window(first, after, nil, nil, decodeConversationCursor)
	if err != nil {
		return nil, err
	}
	pg, err := r.ListConversations(ctx, f, req, resolvers.ConversationOptions{Total: wantsTotal(ctx), Prefetch: conversationPrefetch(ctx)})
	if err != nil {
		return nil, err
	}
	conn := &model.ConversationConnection{TotalCount: pg.Total}
	conn.Edges, conn.PageInfo = edges(pg, conversationCursor, func(e *model.ConversationEdge, c string, n *db.Conversation) {
		e.Cursor, e.Node = c, n
	})
	return conn, nil
}

// contacts is the contact list's connection.
func (r *Resolver) contacts(ctx context.Context, search string, first *int, after *string) (*model.UserConnection, error) {
	req, err := window(first, after, nil, nil, decodeContactCursor)
	if err != nil {
		return nil, err
	}
	pg, err := r.ListContacts(ctx, search, req, resolvers.ContactOptions{Total: wantsTotal(ctx)})
	if err != nil {
		return nil, err
	}
	conn := &model.UserConnection{TotalCount: pg.Total}
	conn.Edges, conn.PageInfo = edges(pg, contactCursor, func(e *model.UserEdge, c string, u *db.User) {
		e.Cursor, e.Node = c, u
	})
	return conn, nil
}

// events is a page of the company's event log.
func (r *Resolver) events(ctx context.Context, after *string, first *int) (*model.EventConnection, error) {
	pg, err := r.Events(ctx, after, first)
	if err != nil {
		return nil, err
	}
	conn := &model.EventConnection{Edges: make([]*model.EventEdge, len(pg.Events)),
		PageInfo: &model.PageInfo{HasNextPage: pg.HasNext, HasPreviousPage: after != nil}}
	for i, ev := range pg.Events {
		c := resolvers.EventCursor(ev.Position())
		conn.Edges[i] = &model.EventEdge{Cursor: c, Node: ev}
		if i == 0 {
			conn.PageInfo.StartCursor = &c
		}
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}
