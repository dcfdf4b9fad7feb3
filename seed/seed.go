// Package seed loads the demo company that `connectme seed` and `make run` show a
// newcomer. Running it again changes nothing.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
)

// Demo login printed by `connectme seed`.
const (
	DemoEmail    = "demo@connectme.local"
	DemoPassword = "connectme-demo"
	DemoSender   = "whatsapp:+14155238886"
)

// The demo team beside the OWNER (same password), so the playground shows a team.
var team = []struct{ first, last, email, role, phone string }{
	{"Nadia", "Fernando", "admin@connectme.local", db.RoleAdmin, "+94771234568"},
	{"Kasun", "Silva", "agent@connectme.local", db.RoleAgent, "+94771234569"},
}

type demoContact struct {
	first, last, phone string
	// lastInbound is how long ago the contact last wrote; it decides the 24 h window.
	lastInbound time.Duration
	lines       []string
}

var contacts = []demoContact{
	{"Madhawa", "Samarawickrama", "+94717936775", 2 * time.Hour, []string{"Hi, is my order on its way?", "Your order shipped this morning.", "Great, thanks!"}},
	{"Amaya", "Perera", "+94775777794", 20 * time.Hour, []string{"Do you deliver to Kandy?", "Yes, within three days."}},
	{"John", "Smith", "+14155550123", 3 * 24 * time.Hour, []string{"Can I change my delivery address?", "Sure, what is the new address?"}},
	{"Lucía", "García", "+34612345678", 10 * 24 * time.Hour, []string{"¿Tienen la talla M?", "Sí, la tenemos."}},
}

// Result is what Run made or found.
type Result struct {
	CompanyID int64
	Email     string
	Password  string
	// Team are the emails of the demo ADMIN and AGENT (password Password).
	Team []string
}

// Run loads the demo data. It takes an advisory lock so two seeds cannot interleave,
// and every insert is keyed so that a second run finds what the first made.
func Run(ctx context.Context, bdb *bun.DB, now time.Time) (*Result, error) {
	res := &Result{Email: DemoEmail, Password: DemoPassword}
	err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.LockSeed(ctx, tx); err != nil {
			return err
		}
		company, err := db.CompanyBySender(ctx, tx, DemoSender)
		if err != nil {
			return err
		}
		if company == nil {
			sender := DemoSender
			company = &db.Company{Name: "Demo Store", WhatsAppNumber: &sender}
			if err := db.InsertCompany(ctx, tx, company); err != nil {
				return fmt.Errorf("seed company: %w", err)
			}
		}
		res.CompanyID = company.ID

		agent, err := db.AgentByEmail(ctx, tx, DemoEmail)
		if err != nil {
			hash, err := auth.HashPassword(DemoPassword)
			if err != nil {
				return err
			}
			email, role, ph := DemoEmail, db.RoleOwner, "+94771234567"
			agent = &db.User{CompanyID: company.ID, Kind: db.KindAgent, FirstName: "Demo", LastName: "Agent",
				Phone: &ph, Email: &email, PasswordHash: &hash, Role: &role}
			if err := db.InsertUser(ctx, tx, agent); err != nil {
				return fmt.Errorf("seed agent: %w", err)
			}
		}

		for _, m := range team {
			res.Team = append(res.Team, m.email)
			if _, err := db.AgentByEmail(ctx, tx, m.email); err == nil {
				continue
			}
			hash, err := auth.HashPassword(DemoPassword)
			if err != nil {
				return err
			}
			email, role, ph := m.email, m.role, m.phone
			u := &db.User{CompanyID: company.ID, Kind: db.KindAgent, FirstName: m.first, LastName: m.last,
				Phone: &ph, Email: &email, PasswordHash: &hash, Role: &role}
			if err := db.InsertUser(ctx, tx, u); err != nil {
				return fmt.Errorf("seed team: %w", err)
			}
		}

		fresh := map[string]int64{}
		for _, c := range contacts {
			convID, err := seedConversation(ctx, tx, company.ID, agent.ID, c, now)
			if err != nil {
				return err
			}
			if convID != 0 {
				fresh[c.phone] = convID
			}
		}
		if err := seedWorkflow(ctx, tx, company.ID, fresh, now); err != nil {
			return err
		}
		return seedLabelsAndCanned(ctx, tx, company.ID, now)
	})
	return res, err
}

// seedConversation loads a demo conversation and returns its id, or 0 when it was
// there already.
func seedConversation(ctx context.Context, tx bun.Tx, companyID, agentID int64, c demoContact, now time.Time) (int64, error) {
	ph := c.phone
	contact := &db.User{CompanyID: companyID, Kind: db.KindContact, FirstName: c.first, LastName: c.last, Phone: &ph}
	if err := db.UpsertContact(ctx, tx, contact); err != nil {
		return 0, fmt.Errorf("seed contact: %w", err)
	}
	conv, err := db.UpsertConversation(ctx, tx, companyID, contact.ID, db.ChannelWhatsApp)
	if err != nil {
		return 0, fmt.Errorf("seed conversation: %w", err)
	}
	n, err := db.CountMessages(ctx, tx, companyID, conv.ID, false)
	if err != nil || n > 0 {
		return 0, err
	}
	inbound := now.Add(-c.lastInbound).UTC().Truncate(time.Millisecond)
	start := inbound.Add(-time.Duration(len(c.lines)) * time.Minute)
	var lastIn, lastAt time.Time
	msgs := make([]*db.Message, 0, len(c.lines))
	for i, line := range c.lines {
		at := start.Add(time.Duration(i) * time.Minute)
		content := line
		m := &db.Message{ID: db.NewMessageID(), CompanyID: companyID, ConversationID: conv.ID,
			MessageType: db.TypeText, Content: &content, Datetime: at}
		if i%2 == 0 {
			m.Direction, m.Status, m.SenderID = db.DirectionReceived, db.StatusPending, &contact.ID
			lastIn = at
		} else {
			m.Direction, m.Status, m.SenderID = db.DirectionSent, db.StatusDelivered, &agentID
		}
		msgs = append(msgs, m)
		lastAt = at
	}
	if err := db.InsertMessages(ctx, tx, msgs); err != nil {
		return 0, fmt.Errorf("seed messages: %w", err)
	}
	return conv.ID, db.SetConversationTimes(ctx, tx, conv.ID, &lastAt, &lastIn)
}
