-- The company event log (CONTRACT §7): every event the subscriptions see is also a
-- row here, written by the statement that publishes it, in the same transaction.
--
-- Order: a reader sees a company's events ordered by (xid, id): the writing
-- transaction's id, then a global sequence within it. A reader returns only rows
-- whose xid is below its snapshot's xmin, i.e. whose transaction (and every
-- transaction that could still add a row before it) has ended, so a row can never
-- appear behind a cursor already handed out: no gap, without serialising writers.
-- No foreign keys: the checks would cost each write a lookup and a KEY SHARE lock
-- on the company row; the retention job removes the rows, and a reader loads the
-- message and conversation (which may be gone) when it delivers the event.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id      bigint      NOT NULL,
    xid             bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    type            text        NOT NULL CHECK (type IN ('MESSAGE_ADDED', 'MESSAGE_STATUS_CHANGED', 'CONVERSATION_UPDATED')),
    conversation_id bigint,
    message_id      uuid,
    occurred_at     timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- A company's events after a cursor, oldest first, and its newest (eventsHead).
CREATE INDEX events_company_position_idx ON events (company_id, xid, id);

--bun:split

-- Per company, the newest position the retention job has removed: a cursor before
-- it has lost events (CURSOR_EXPIRED); one at or after it has not.
CREATE TABLE event_horizons (
    company_id bigint PRIMARY KEY,
    xid        bigint NOT NULL,
    id         bigint NOT NULL
);
