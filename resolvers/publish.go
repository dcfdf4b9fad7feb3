package resolvers

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// Events are published inside the transaction that made the change: PostgreSQL
// delivers them to every instance on commit, and never for a rollback.

func publishMessage(ctx context.Context, tx bun.IDB, m *db.Message) error {
	return events.Publish(ctx, tx, events.Event{Kind: events.MessageAdded, CompanyID: m.CompanyID,
		ConversationID: m.ConversationID, MessageID: m.HexID()})
}

func publishStatus(ctx context.Context, tx bun.IDB, ch *db.StatusChange) error {
	return events.Publish(ctx, tx, events.Event{Kind: events.MessageStatusChanged, CompanyID: ch.CompanyID,
		ConversationID: ch.ConversationID, MessageID: db.HexID(ch.ID), Status: ch.Status})
}

func publishConversation(ctx context.Context, tx bun.IDB, c *db.Conversation) error {
	return events.Publish(ctx, tx, events.Event{Kind: events.ConversationUpdated, CompanyID: c.CompanyID,
		ConversationID: c.ID})
}
