-- The team's workflow (CONTRACT §6): a conversation's status (with the time a
-- snoozed one wakes), its assignee, and private notes among its messages.

ALTER TABLE conversations
    ADD COLUMN status text NOT NULL DEFAULT 'OPEN'
        CHECK (status IN ('OPEN', 'PENDING', 'SNOOZED', 'RESOLVED')),
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN assignee_id bigint REFERENCES users (id) ON DELETE SET NULL,
    -- snoozedUntil is set exactly while SNOOZED.
    ADD CONSTRAINT conversations_snooze_check CHECK ((status = 'SNOOZED') = (snoozed_until IS NOT NULL));

--bun:split

-- The snooze wake-up reads only the due snoozed conversations: a tiny partial index.
CREATE INDEX conversations_snoozed_idx ON conversations (snoozed_until) WHERE status = 'SNOOZED';

--bun:split

-- The agent's inbox (status OPEN, assignee ME, or any status for one assignee): a
-- keyset page in the inbox order read off the index, never a sort of the company.
CREATE INDEX conversations_assignee_status_updated_idx
    ON conversations (company_id, assignee_id, status, last_update_time DESC NULLS LAST, id DESC);

--bun:split

-- Status filters without an assignee (the OPEN tab, RESOLVED, ...), and inboxCounts.
CREATE INDEX conversations_status_updated_idx
    ON conversations (company_id, status, last_update_time DESC NULLS LAST, id DESC);

--bun:split

ALTER TABLE messages DROP CONSTRAINT messages_message_type_check;

--bun:split

ALTER TABLE messages ADD CONSTRAINT messages_message_type_check
    CHECK (message_type IN ('TEXT', 'MEDIA', 'TEMPLATE', 'NOTE'));

--bun:split

-- The legacy message page subtracts the conversation's notes from its count: the
-- count of all stays index-only, the notes' a probe of this small index.
CREATE INDEX messages_notes_idx ON messages (conversation_id) WHERE message_type = 'NOTE';

--bun:split

-- The legacy search leaves notes out (legacy clients would show them as sent to the
-- customer); GraphQL's searchMessages finds them.
ALTER TABLE message_search ADD COLUMN note boolean NOT NULL DEFAULT false;

--bun:split

CREATE OR REPLACE FUNCTION message_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_search (message_id, company_id, datetime, content, note)
    SELECT id, company_id, datetime, content, message_type = 'NOTE' FROM inserted_messages WHERE content <> '';
    RETURN NULL;
END
$$;
