package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
)

// demoWorkflow is where a demo conversation (by the contact's phone) is in the
// team's work: a mix of statuses and assignees for the inbox filters and counts.
var demoWorkflow = []struct {
	phone, status, assignee string
	// snooze is how long from the seed a SNOOZED conversation sleeps.
	snooze time.Duration
	// note, when set, is a private note of the assignee.
	note string
}{
	{"+94717936775", db.ConversationOpen, "agent@connectme.local", 0,
		"Asked twice about this order: check the courier's tracking before replying."},
	{"+94775777794", db.ConversationOpen, "", 0, ""},
	{"+14155550123", db.ConversationSnoozed, "admin@connectme.local", 48 * time.Hour, ""},
	{"+34612345678", db.ConversationResolved, "agent@connectme.local", 0, ""},
}

// seedWorkflow gives the conversations seeded by this run (fresh, by phone) their
// status, assignee and note; a conversation that was there already keeps whatever
// the team made of it.
func seedWorkflow(ctx context.Context, tx bun.Tx, companyID int64, fresh map[string]int64, now time.Time) error {
	for _, w := range demoWorkflow {
		convID, ok := fresh[w.phone]
		if !ok {
			continue
		}
		var assignee *int64
		if w.assignee != "" {
			u, err := db.AgentByEmail(ctx, tx, w.assignee)
			if err != nil {
				return fmt.Errorf("seed workflow: %s: %w", w.assignee, err)
			}
			assignee = &u.ID
		}
		var until *time.Time
		if w.status == db.ConversationSnoozed {
			t := now.Add(w.snooze).UTC()
			until = &t
		}
		if _, err := db.SetConversationStatus(ctx, tx, companyID, convID, w.status, until); err != nil {
			return fmt.Errorf("seed workflow: %w", err)
		}
		if _, err := db.AssignConversation(ctx, tx, companyID, convID, assignee); err != nil {
			return fmt.Errorf("seed workflow: %w", err)
		}
		if w.note != "" {
			text := w.note
			note := &db.Message{ID: db.NewMessageID(), CompanyID: companyID, ConversationID: convID, SenderID: assignee,
				Direction: db.DirectionSent, MessageType: db.TypeNote, Content: &text, Datetime: now.UTC(), Status: db.StatusSent}
			if err := db.InsertNote(ctx, tx, note, nil); err != nil {
				return fmt.Errorf("seed workflow: %w", err)
			}
		}
	}
	return nil
}
