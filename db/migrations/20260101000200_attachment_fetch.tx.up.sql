-- Inbound media are downloaded from the provider by a background job (media/fetcher.go).
-- next_fetch_at schedules the next try: a claim pushes it one lease into the future, so
-- an attempt lost with its worker is retried once the lease runs out, and a failed
-- attempt sets it to the backoff time. last_error keeps the reason of the last failure.
ALTER TABLE attachments
    ADD COLUMN next_fetch_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error    text;

--bun:split

DROP INDEX attachments_pending_idx;

--bun:split

-- The due pending attachments, in the order the job claims them.
CREATE INDEX attachments_fetch_due_idx ON attachments (next_fetch_at, id) WHERE state = 'PENDING';
