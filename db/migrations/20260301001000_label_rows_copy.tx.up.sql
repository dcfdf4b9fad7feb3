-- The inbox filtered by a label reads its page from the label's rows alone. Each
-- label row already carried its conversation's last_update_time (20260301000700),
-- the page's order; it walked the label's rows in that order and then fetched each
-- conversation by primary key, one index descent and heap page per row more than an
-- unfiltered page reads, which left a label's page slower than the unfiltered inbox
-- (BENCHMARKS.md). Now a label row carries a copy of every column of its
-- conversation, kept equal by triggers in the transaction that changes it, and the
-- keyset index includes them: a label's page is one index-only walk.
--
-- What it costs: every change of a conversation's columns is also written to its
-- label rows. The frequent change, a message's new last_update_time, already was
-- (the label rows are updated by the same trigger, once per conversation update);
-- status, assignment and snooze changes are new writes, a few rows each.
ALTER TABLE conversation_labels
    ADD COLUMN user_id bigint,
    ADD COLUMN channel_id integer,
    ADD COLUMN last_free_message_time timestamptz,
    ADD COLUMN created_at timestamptz,
    ADD COLUMN status text,
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN assignee_id bigint;

--bun:split

UPDATE conversation_labels AS cl SET user_id = c.user_id, channel_id = c.channel_id,
    last_update_time = c.last_update_time, last_free_message_time = c.last_free_message_time,
    created_at = c.created_at, status = c.status, snoozed_until = c.snoozed_until, assignee_id = c.assignee_id
FROM conversations AS c WHERE c.id = cl.conversation_id;

--bun:split

ALTER TABLE conversation_labels
    ALTER COLUMN user_id SET NOT NULL,
    ALTER COLUMN channel_id SET NOT NULL,
    ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN status SET NOT NULL;

--bun:split

DROP INDEX conversation_labels_keyset_idx;

--bun:split

CREATE INDEX conversation_labels_keyset_idx
    ON conversation_labels (label_id, last_update_time DESC NULLS LAST, conversation_id DESC)
    INCLUDE (company_id, user_id, channel_id, last_free_message_time, created_at, status, snoozed_until, assignee_id);

--bun:split

-- A label given copies its conversation. FOR SHARE: a transaction changing the
-- conversation meanwhile has either committed (and its version is the one read) or
-- waits for this one to commit, and then its trigger sees this label row and
-- updates it; a plain read could copy a version that is already stale. (The lock
-- order is a conversation before its label rows, as a change of the conversation
-- takes them: a transaction that removes a label and then gives one could deadlock
-- with it; addLabels and removeLabels are separate transactions.)
--
-- The row, its label and its conversation must be of one company: a label's page
-- is its rows, with no other tenancy condition (db.listConversations).
CREATE OR REPLACE FUNCTION conversation_labels_time() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    conversation_company bigint;
BEGIN
    SELECT c.company_id, c.user_id, c.channel_id, c.last_update_time, c.last_free_message_time, c.created_at,
           c.status, c.snoozed_until, c.assignee_id
      INTO conversation_company, NEW.user_id, NEW.channel_id, NEW.last_update_time, NEW.last_free_message_time,
           NEW.created_at, NEW.status, NEW.snoozed_until, NEW.assignee_id
      FROM conversations AS c WHERE c.id = NEW.conversation_id FOR SHARE;
    IF conversation_company IS DISTINCT FROM NEW.company_id
        OR NOT EXISTS (SELECT 1 FROM labels AS l WHERE l.id = NEW.label_id AND l.company_id = NEW.company_id) THEN
        RAISE EXCEPTION 'conversation % and label % are not both of company %', NEW.conversation_id, NEW.label_id, NEW.company_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

--bun:split

-- A label row never changes its conversation, label or company.
CREATE FUNCTION conversation_labels_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a label row''s conversation, label and company do not change'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

--bun:split

CREATE TRIGGER conversation_labels_fixed BEFORE UPDATE OF conversation_id, label_id, company_id ON conversation_labels
    FOR EACH ROW WHEN ((OLD.conversation_id, OLD.label_id, OLD.company_id)
        IS DISTINCT FROM (NEW.conversation_id, NEW.label_id, NEW.company_id))
    EXECUTE FUNCTION conversation_labels_fixed();

--bun:split

DROP TRIGGER conversations_labels_follow ON conversations;

--bun:split

-- A conversation's new columns go to its labels.
CREATE OR REPLACE FUNCTION conversations_labels_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation_labels SET user_id = NEW.user_id, channel_id = NEW.channel_id,
        last_update_time = NEW.last_update_time, last_free_message_time = NEW.last_free_message_time,
        created_at = NEW.created_at, status = NEW.status, snoozed_until = NEW.snoozed_until,
        assignee_id = NEW.assignee_id
    WHERE conversation_id = NEW.id;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER conversations_labels_follow AFTER UPDATE ON conversations
    FOR EACH ROW WHEN ((OLD.user_id, OLD.channel_id, OLD.last_update_time, OLD.last_free_message_time,
        OLD.created_at, OLD.status, OLD.snoozed_until, OLD.assignee_id)
        IS DISTINCT FROM (NEW.user_id, NEW.channel_id, NEW.last_update_time, NEW.last_free_message_time,
        NEW.created_at, NEW.status, NEW.snoozed_until, NEW.assignee_id))
    EXECUTE FUNCTION conversations_labels_follow();
