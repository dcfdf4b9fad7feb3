package testkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
)

var seq atomic.Int64

// Password is the password of every agent the fixtures make.
const Password = "correct-horse-battery"

var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(Password)
	if err != nil {
		panic(err)
	}
	return h
})

// Company makes a company with a unique WhatsApp sender number.
func Company(t testing.TB, bdb bun.IDB) *db.Company {
	t.Helper()
	n := seq.Add(1)
	wa := fmt.Sprintf("whatsapp:+1415%07d", 5000000+n)
	c := &db.Company{Name: fmt.Sprintf("Company %d", n), WhatsAppNumber: &wa}
	if _, err := bdb.NewInsert().Model(c).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("fixture company: %v", err)
	}
	return c
}

// Agent makes an agent (role AGENT) of the company with password Password.
func Agent(t testing.TB, bdb bun.IDB, companyID int64) *db.User {
	t.Helper()
	n := seq.Add(1)
	email := fmt.Sprintf("agent%d@example.com", n)
	ph := fmt.Sprintf("+9477%07d", n)
	role := db.RoleAgent
	hash := passwordHash()
	u := &db.User{CompanyID: companyID, Kind: db.KindAgent, FirstName: "Agent", LastName: fmt.Sprint(n),
		Phone: &ph, Email: &email, PasswordHash: &hash, Role: &role}
	if _, err := bdb.NewInsert().Model(u).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("fixture agent: %v", err)
	}
	return u
}

// Contact makes a contact of the company with a unique phone number.
func Contact(t testing.TB, bdb bun.IDB, companyID int64) *db.User {
	t.Helper()
	n := seq.Add(1)
	ph := fmt.Sprintf("+9471%07d", n)
	u := &db.User{CompanyID: companyID, Kind: db.KindContact, FirstName: "Contact", LastName: fmt.Sprint(n), Phone: &ph}
	if _, err := bdb.NewInsert().Model(u).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("fixture contact: %v", err)
	}
	return u
}

// Conversation makes a WhatsApp conversation of the company with a new contact.
// lastInbound, when not zero, is the contact's last inbound message time.
func Conversation(t testing.TB, bdb bun.IDB, companyID int64, lastInbound time.Time) *db.Conversation {
	t.Helper()
	contact := Contact(t, bdb, companyID)
	conv := &db.Conversation{CompanyID: companyID, UserID: contact.ID, ChannelID: db.ChannelWhatsApp}
	if !lastInbound.IsZero() {
		conv.LastFreeMessageTime = &lastInbound
		conv.LastUpdateTime = &lastInbound
	}
	if _, err := bdb.NewInsert().Model(conv).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("fixture conversation: %v", err)
	}
	conv.User = contact
	return conv
}

// Message adds a message to a conversation.
func Message(t testing.TB, bdb bun.IDB, conv *db.Conversation, direction, content string, at time.Time) *db.Message {
	t.Helper()
	m := &db.Message{ID: db.NewMessageID(), CompanyID: conv.CompanyID, ConversationID: conv.ID,
		Direction: direction, MessageType: db.TypeText, Content: &content, Datetime: at.UTC(), Status: db.StatusPending}
	if direction == db.DirectionReceived {
		m.SenderID = &conv.UserID
	}
	if _, err := bdb.NewInsert().Model(m).Exec(context.Background()); err != nil {
		t.Fatalf("fixture message: %v", err)
	}
	return m
}
