package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
)

// The demo labels (with their colors) and the demo conversations (by contact
// phone) that carry them.
var (
	labelColors = map[string]string{"VIP": "#f5a623", "delivery": "#1f93ff", "billing": "#7ed321"}
	labelsOf    = map[string][]string{
		"+94717936775": {"VIP", "delivery"},
		"+94775777794": {"delivery"},
		"+14155550123": {"delivery", "billing"},
	}
)

// The demo canned responses.
var cannedResponses = []struct{ code, content string }{
	{"greeting", "Hi {{contact.firstName}}, this is {{agent.firstName}} from Demo Store. How can I help you today?"},
	{"shipping", "Hi {{contact.firstName}}, your order has shipped and should arrive within three working days."},
	{"thanks", "Thank you, {{contact.firstName}}! Is there anything else I can do for you?"},
}

// seedLabelsAndCanned puts the demo labels on the demo conversations and stores the
// demo canned responses; what exists already is kept.
func seedLabelsAndCanned(ctx context.Context, tx bun.Tx, companyID int64, now time.Time) error {
	for _, c := range contacts {
		names := labelsOf[c.phone]
		if len(names) == 0 {
			continue
		}
		ph := c.phone
		contact := &db.User{CompanyID: companyID, Kind: db.KindContact, FirstName: c.first, LastName: c.last, Phone: &ph}
		if err := db.UpsertContact(ctx, tx, contact); err != nil {
			return fmt.Errorf("seed labels: %w", err)
		}
		conv, err := db.UpsertConversation(ctx, tx, companyID, contact.ID, db.ChannelWhatsApp)
		if err != nil {
			return fmt.Errorf("seed labels: %w", err)
		}
		if err := db.EnsureLabels(ctx, tx, companyID, names, now); err != nil {
			return err
		}
		if _, err := db.AttachLabels(ctx, tx, companyID, conv.ID, names); err != nil {
			return err
		}
	}
	labels, err := db.Labels(ctx, tx, companyID)
	if err != nil {
		return err
	}
	for _, l := range labels {
		if color, ok := labelColors[l.Name]; ok && l.Color != color {
			l.Color = color
			if err := db.UpdateLabel(ctx, tx, l); err != nil {
				return err
			}
		}
	}
	existing, err := db.CannedResponses(ctx, tx, companyID, "")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range existing {
		have[c.ShortCode] = true
	}
	for _, c := range cannedResponses {
		if have[c.code] {
			continue
		}
		cr := &db.CannedResponse{CompanyID: companyID, ShortCode: c.code, Content: c.content, CreatedAt: now, UpdatedAt: now}
		if err := db.InsertCannedResponse(ctx, tx, cr); err != nil {
			return err
		}
	}
	return nil
}
