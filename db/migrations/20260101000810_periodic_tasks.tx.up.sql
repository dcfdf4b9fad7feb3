-- Periodic tasks (cleanups) run by the background-work loop: one row per task with
-- its next run time, claimed like any other job (FOR UPDATE SKIP LOCKED under a
-- lease), so with several instances each run happens on one of them.
CREATE TABLE IF NOT EXISTS periodic_tasks (
    name         text PRIMARY KEY,
    run_at       timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_error   text
);
