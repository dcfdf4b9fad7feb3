-- inboxCounts from counters instead of a pass over the company's conversations.
--
-- The counts were one aggregate over the company's rows of an index (2,000 rows,
-- 1.1 ms of PostgreSQL a call on the benchmark's dataset): it grew with the inbox,
-- and the inbox's badge asks for it all the time. Now each conversation counts in
-- one row per (company, status, assignee), kept by triggers in the transaction that
-- changes the conversation; inboxCounts sums a few rows.
--
-- Each backend writes its own rows (slot = its process id), by upsert: two
-- transactions never wait for each other's counter rows, whatever they change and in
-- whatever order (rows shared by backends could deadlock two transactions that
-- change several conversations in opposite orders). A periodic task (db.FoldInboxCounts)
-- folds the backends' rows into slot 0, skipping rows a transaction still holds, and
-- removes the rows of deleted companies (no foreign key: a company's deletion
-- deletes its conversations, whose triggers would otherwise write rows for it).
-- assignee_id 0 is unassigned.
CREATE TABLE conversation_tab_counts (
    company_id  bigint  NOT NULL,
    status      text    NOT NULL,
    assignee_id bigint  NOT NULL,
    slot        integer NOT NULL,
    n           bigint  NOT NULL,
    PRIMARY KEY (company_id, status, assignee_id, slot)
);

--bun:split

-- No conversation changes from here to the end of the migration's transaction, so
-- the counts below and the triggers see every change exactly once.
LOCK TABLE conversations IN SHARE ROW EXCLUSIVE MODE;

--bun:split

INSERT INTO conversation_tab_counts (company_id, status, assignee_id, slot, n)
SELECT company_id, status, coalesce(assignee_id, 0), 0, count(*) FROM conversations GROUP BY 1, 2, 3;

--bun:split

CREATE FUNCTION conversations_tab_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO conversation_tab_counts AS t (company_id, status, assignee_id, slot, n)
        VALUES (OLD.company_id, OLD.status, coalesce(OLD.assignee_id, 0), pg_backend_pid(), -1)
        ON CONFLICT (company_id, status, assignee_id, slot) DO UPDATE SET n = t.n - 1;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO conversation_tab_counts AS t (company_id, status, assignee_id, slot, n)
        VALUES (NEW.company_id, NEW.status, coalesce(NEW.assignee_id, 0), pg_backend_pid(), 1)
        ON CONFLICT (company_id, status, assignee_id, slot) DO UPDATE SET n = t.n + 1;
    END IF;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER conversations_tab_counts AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_tab_counts();

--bun:split

-- Only a change of status or assignee: a message's new time (the frequent update)
-- fires nothing.
CREATE TRIGGER conversations_tab_counts_update AFTER UPDATE OF status, assignee_id ON conversations
    FOR EACH ROW WHEN ((OLD.status, OLD.assignee_id) IS DISTINCT FROM (NEW.status, NEW.assignee_id))
    EXECUTE FUNCTION conversations_tab_counts();
