package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/resolvers"
)

// snoozePoll is how often each instance looks for snoozes that have ended: the
// contract wakes a conversation within 5 s of its time, with any one instance
// running. A look is one statement on a partial index of the snoozed conversations
// (an empty BEGIN/UPDATE/COMMIT when none is due).
const snoozePoll = time.Second

// snoozeBatch is how many conversations one look wakes; a full batch looks again
// at once.
const snoozeBatch = 100

// snoozeRunner wakes snoozed conversations on the background-work loop. The wake-up
// is the claim itself: one transaction sets the due conversations OPEN (skipping
// the rows another instance holds, re-checking each row it updates) and publishes
// conversationUpdated for each, so each conversation wakes once, on one instance,
// however many run; the state is the table, so a restart loses nothing. Do has
// nothing left to do but log.
func snoozeRunner(r *resolvers.Resolver, log *slog.Logger) (*jobs.Runner[*db.Conversation], error) {
	return jobs.New(jobs.Queue[*db.Conversation]{
		Name: "snooze", PollInterval: snoozePoll, Workers: snoozeBatch, Log: log,
		Claim: func(ctx context.Context, n int, _ time.Duration) ([]*db.Conversation, error) {
			return r.WakeSnoozed(ctx, n)
		},
		Do: func(_ context.Context, c *db.Conversation) {
			log.Debug("snooze ended", "company_id", c.CompanyID, "conversation_id", c.ID)
		},
	})
}
