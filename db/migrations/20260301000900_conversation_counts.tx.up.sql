-- The legacy conversation page's total (GET /conversations: page, limit, total) and
-- an unfiltered totalCount, kept as a counter instead of counted per request.
--
-- count(*) of a company's conversations is an index-only scan only while the
-- visibility map says their pages are all visible; every message updates its
-- conversation's time, so under write load it is a heap fetch per conversation
-- (2,000 fetches, 29 ms, on the benchmark's dataset after its write scenarios), and
-- it grows with the company. The counter is a few rows per company: each backend
-- adds to its own slot (its process id modulo 16), so concurrent transactions
-- creating conversations of one company rarely wait for each other (a slot's row
-- stays locked until the creating transaction ends); the total is the sum of the
-- slots.
CREATE TABLE company_conversation_counts (
    company_id bigint   NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    slot       smallint NOT NULL,
    n          bigint   NOT NULL,
    PRIMARY KEY (company_id, slot)
);

--bun:split

-- No conversation is created or deleted from here to the end of the migration's
-- transaction, so the count below and the triggers see every one exactly once.
LOCK TABLE conversations IN SHARE ROW EXCLUSIVE MODE;

--bun:split

-- Row triggers: an INSERT ... ON CONFLICT DO UPDATE that finds the conversation (every
-- message does one) fires no INSERT row trigger, so the hot path pays nothing; only
-- a conversation actually created or deleted moves the counter.
CREATE FUNCTION conversations_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO company_conversation_counts AS c (company_id, slot, n)
    VALUES (NEW.company_id, pg_backend_pid() % 16, 1)
    ON CONFLICT (company_id, slot) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_count_insert();

--bun:split

-- A deletion takes from a slot of the company (its own when it has one). It never
-- inserts: when the company itself is being deleted, its counter rows may be gone
-- already, and there is nothing left to count.
CREATE FUNCTION conversations_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE company_conversation_counts AS c SET n = c.n - 1
    WHERE c.company_id = OLD.company_id
      AND c.slot = (SELECT x.slot FROM company_conversation_counts AS x WHERE x.company_id = OLD.company_id
                    ORDER BY x.slot = pg_backend_pid() % 16 DESC, x.slot LIMIT 1);
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_count_delete();

--bun:split

-- A conversation never changes company (the counter, and every tenant check, rely
-- on it).
CREATE FUNCTION conversations_company_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a conversation does not change company' USING ERRCODE = 'check_violation';
END
$$;

--bun:split

CREATE TRIGGER conversations_company_fixed BEFORE UPDATE OF company_id ON conversations
    FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION conversations_company_fixed();

--bun:split

INSERT INTO company_conversation_counts (company_id, slot, n)
SELECT company_id, 0, count(*) FROM conversations GROUP BY company_id;
