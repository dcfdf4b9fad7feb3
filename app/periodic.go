package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/resolvers"
)

// periodicTask is a cleanup run every so often by one of the instances.
type periodicTask struct {
	every time.Duration
	run   func(context.Context) (int, error)
}

// periodicTasks are the app's cleanups: status callbacks held for sends whose
// answer never came (removed after the 24 h retry horizon), and uploads no message
// took within 24 h (quota). Hourly is often enough for both: each removes what is
// older than a day. Ended sessions go once no token of theirs can be valid. Events
// older than EVENT_RETENTION go every ten minutes, so each run removes a little.
// With Twilio's credentials, the templates are synced from the Content API every
// templateSync. Finished webhook deliveries go after 30 days. The inbox counters'
// rows, one per database connection that changed a conversation's status or
// assignee, are folded every minute (a few rows each time).
func periodicTasks(r *resolvers.Resolver, templateSync time.Duration) map[string]periodicTask {
	tasks := map[string]periodicTask{
		"expire_held_statuses":     {every: time.Hour, run: r.ExpireHeldStatuses},
		"purge_unattached_uploads": {every: time.Hour, run: r.PurgeUnattachedUploads},
		"purge_ended_sessions":     {every: time.Hour, run: r.PurgeSessions},
		"purge_old_events":         {every: 10 * time.Minute, run: r.PurgeEvents},
		"purge_webhook_log":        {every: time.Hour, run: r.PurgeWebhookDeliveries},
		"fold_inbox_counts":        {every: time.Minute, run: r.FoldInboxCounts},
	}
	if r.Contents != nil && templateSync > 0 {
		tasks["sync_templates"] = periodicTask{every: templateSync, run: r.RunTemplateSync}
	}
	return tasks
}

// periodicRunner runs the periodic tasks on the background-work loop: each task is
// a row of periodic_tasks with its next run time, claimed under a lease, so with
// several instances each run happens once, on one of them, and survives restarts.
func periodicRunner(work *bun.DB, r *resolvers.Resolver, log *slog.Logger, poll, templateSync time.Duration) (*jobs.Runner[string], error) {
	tasks := periodicTasks(r, templateSync)
	names := make([]string, 0, len(tasks))
	for n := range tasks {
		names = append(names, n)
	}
	if poll <= 0 {
		poll = time.Minute
	}
	return jobs.New(jobs.Queue[string]{
		Name: "periodic tasks", Lease: 10 * time.Minute, PollInterval: poll, Log: log,
		Claim: func(ctx context.Context, n int, lease time.Duration) ([]string, error) {
			if err := db.EnsurePeriodicTasks(ctx, work, names); err != nil {
				return nil, err
			}
			return db.ClaimPeriodicTasks(ctx, work, names, n, lease)
		},
		Do: func(ctx context.Context, name string) {
			t := tasks[name]
			n, err := t.run(ctx)
			msg := ""
			if err != nil {
				msg = err.Error()
				log.Warn("periodic task failed; it runs again at its next time", "task", name, "err", err)
			} else if n > 0 {
				log.Info("periodic task done", "task", name, "changed", n)
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := db.FinishPeriodicTask(fctx, work, name, t.every, msg); err != nil {
				log.Warn("record periodic task; it runs again after its lease", "task", name, "err", err)
			}
		},
	})
}
