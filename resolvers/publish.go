package resolvers

import (
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
)

// Events are published inside the transaction that made the change: PostgreSQL
// delivers them to every instance on commit, and never for a rollback. A change that
// raises several publishes them together, in one statement (events.Publish).

func messageEvent(m *db.Message) events.Event {
	return events.Event{Kind: events.MessageAdded, CompanyID: m.CompanyID,
		ConversationID: m.ConversationID, MessageID: m.HexID()}
}

func statusEvent(ch *db.StatusChange) events.Event {
	return events.Event{Kind: events.MessageStatusChanged, CompanyID: ch.CompanyID,
		ConversationID: ch.ConversationID, MessageID: db.HexID(ch.ID), Status: ch.Status}
}

func conversationEvent(c *db.Conversation) events.Event {
	return events.Event{Kind: events.ConversationUpdated, CompanyID: c.CompanyID, ConversationID: c.ID}
}
