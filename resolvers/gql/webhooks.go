package gql

import (
	"context"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// cursorWebhookAttempt tags the cursors of webhookDeliveries.
const cursorWebhookAttempt = "w"

func (r *mutationResolver) createWebhookEndpoint(ctx context.Context, in model.CreateWebhookEndpointInput) (*db.WebhookEndpoint, error) {
	return r.Resolver.CreateWebhookEndpoint(ctx, resolvers.WebhookEndpointInput{URL: in.URL, EventTypes: in.EventTypes})
}

func (r *mutationResolver) updateWebhookEndpoint(ctx context.Context, in model.UpdateWebhookEndpointInput) (*db.WebhookEndpoint, error) {
	id, err := resolvers.ParseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	ch := resolvers.WebhookEndpointChange{ID: id, URL: in.URL, Enabled: in.Enabled, EventTypes: in.EventTypes}
	if in.EventTypes != nil && len(in.EventTypes) == 0 {
		ch.EventTypes = []string{} // given empty: refused, not left unchanged
	}
	return r.Resolver.UpdateWebhookEndpoint(ctx, ch)
}

func (r *mutationResolver) deleteWebhookEndpoint(ctx context.Context, id string) (bool, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return false, err
	}
	return r.Resolver.DeleteWebhookEndpoint(ctx, n)
}

func (r *mutationResolver) testWebhookEndpoint(ctx context.Context, id string) (*db.WebhookAttempt, error) {
	n, err := resolvers.ParseID("id", id)
	if err != nil {
		return nil, err
	}
	return r.Resolver.TestWebhookEndpoint(ctx, n)
}

func (r *queryResolver) webhookDeliveries(ctx context.Context, endpointID string, first *int, after *string) (*model.WebhookDeliveryConnection, error) {
	id, err := resolvers.ParseID("endpointId", endpointID)
	if err != nil {
		return nil, err
	}
	var before int64
	if after != nil {
		c, err := decodeCursor(*after, cursorWebhookAttempt)
		if err != nil || c.N <= 0 {
			return nil, errBadCursor
		}
		before = c.N
	}
	n := 50
	if first != nil {
		n = *first
	}
	page, err := r.Resolver.WebhookDeliveries(ctx, id, n, before)
	if err != nil {
		return nil, err
	}
	conn := &model.WebhookDeliveryConnection{Edges: make([]*model.WebhookDeliveryEdge, len(page.Attempts)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: before > 0}}
	for i, a := range page.Attempts {
		c := encodeCursor(cursor{Kind: cursorWebhookAttempt, N: a.ID})
		conn.Edges[i] = &model.WebhookDeliveryEdge{Cursor: c, Node: a}
		if i == 0 {
			conn.PageInfo.StartCursor = &c
		}
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}

// webhookSecret shows an endpoint's secret where the business layer left it
// (createWebhookEndpoint's answer only).
func webhookSecret(e *db.WebhookEndpoint) *string {
	if e.Secret == "" {
		return nil
	}
	return &e.Secret
}
