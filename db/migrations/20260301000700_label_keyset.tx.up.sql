-- The inbox filtered by a label as a keyset page on an index, as the unfiltered
-- inbox is (conversations_company_updated_idx): each label's conversations in the
-- inbox's order. The order's key, a conversation's last_update_time, is copied
-- into its label rows and kept equal by triggers, in the transaction that changes
-- it. Before, the filter walked the whole inbox in order and probed each
-- conversation for the label: a page of a label on one conversation in four read
-- four times the rows of an unfiltered page, and a rare label read them all.
ALTER TABLE conversation_labels ADD COLUMN last_update_time timestamptz;

--bun:split

UPDATE conversation_labels AS cl SET last_update_time = c.last_update_time
FROM conversations AS c WHERE c.id = cl.conversation_id;

--bun:split

CREATE INDEX conversation_labels_keyset_idx
    ON conversation_labels (label_id, last_update_time DESC NULLS LAST, conversation_id DESC);

--bun:split

-- A label given takes its conversation's time.
CREATE FUNCTION conversation_labels_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT last_update_time INTO NEW.last_update_time FROM conversations WHERE id = NEW.conversation_id;
    RETURN NEW;
END
$$;

--bun:split

CREATE TRIGGER conversation_labels_time BEFORE INSERT ON conversation_labels
    FOR EACH ROW EXECUTE FUNCTION conversation_labels_time();

--bun:split

-- A conversation's new time goes to its labels.
CREATE FUNCTION conversations_labels_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversation_labels SET last_update_time = NEW.last_update_time WHERE conversation_id = NEW.id;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER conversations_labels_follow AFTER UPDATE OF last_update_time ON conversations
    FOR EACH ROW WHEN (OLD.last_update_time IS DISTINCT FROM NEW.last_update_time)
    EXECUTE FUNCTION conversations_labels_follow();

--bun:split

-- inboxCounts.unread (OPEN conversations with an unread message) from the
-- company's unread messages, which agents keep few, instead of one probe of
-- messages_unread_idx per OPEN conversation, which grows with the inbox.
CREATE INDEX messages_company_unread_idx ON messages (company_id, conversation_id) WHERE unread;
