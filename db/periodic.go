package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// EnsurePeriodicTasks makes sure every named task has a row (due at once when new).
func EnsurePeriodicTasks(ctx context.Context, idb bun.IDB, names []string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := idb.NewRaw(`INSERT INTO periodic_tasks (name) SELECT unnest(?::text[]) ON CONFLICT (name) DO NOTHING`,
		pgdialect.Array(names)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("ensure periodic tasks: %w", err)
	}
	return nil
}

// ClaimPeriodicTasks takes up to n due tasks among names that no live runner holds,
// and reserves them for lease.
func ClaimPeriodicTasks(ctx context.Context, idb bun.IDB, names []string, n int, lease time.Duration) ([]string, error) {
	var out []string
	err := idb.NewRaw(`WITH due AS MATERIALIZED (
			SELECT name FROM periodic_tasks
			WHERE name = ANY(?::text[]) AND run_at <= now() AND (locked_until IS NULL OR locked_until < now())
			ORDER BY run_at LIMIT ?
			FOR UPDATE SKIP LOCKED
		)
		UPDATE periodic_tasks AS p SET locked_until = now() + make_interval(secs => ? / 1000.0)
		FROM due WHERE p.name = due.name
		RETURNING p.name`, pgdialect.Array(names), n, lease.Milliseconds()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim periodic tasks: %w", err)
	}
	return out, nil
}

// FinishPeriodicTask schedules a task's next run after every and notes its error
// ("" when it succeeded).
func FinishPeriodicTask(ctx context.Context, idb bun.IDB, name string, every time.Duration, lastError string) error {
	_, err := idb.NewRaw(`UPDATE periodic_tasks
		SET run_at = now() + make_interval(secs => ? / 1000.0), locked_until = NULL, last_error = NULLIF(?, '')
		WHERE name = ?`, every.Milliseconds(), lastError, name).Exec(ctx)
	if err != nil {
		return fmt.Errorf("finish periodic task: %w", err)
	}
	return nil
}
