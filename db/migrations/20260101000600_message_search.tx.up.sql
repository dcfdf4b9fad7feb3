-- Cheaper writes of messages, measured on a million messages (BENCHMARKS.md).
--
-- A message row carried seven indexes, two of them GIN (full text on a generated
-- tsvector, trigrams on the content), and status was in the predicate of the unread
-- index, so every status change (the delivery's rewrite, then each callback) was a
-- non-HOT update that added entries to all of them again. Two changes:
--
-- 1. The text search moves to message_search, a narrow row written once with the
--    message and never updated: a message's content and datetime never change after
--    the insert (no UPDATE of messages sets them).
-- 2. No index of messages mentions status any more: unread is a stored generated
--    column, and messages keep free space on their pages, so a status change that
--    does not touch provider_sid is a HOT update (no index entries at all).
CREATE TABLE message_search (
    message_id uuid        PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    company_id bigint      NOT NULL,
    datetime   timestamptz NOT NULL,
    content    text        NOT NULL,
    search     tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);

--bun:split

-- A message without text (media only, or empty) can match no search: it gets no row.
INSERT INTO message_search (message_id, company_id, datetime, content)
SELECT id, company_id, datetime, content FROM messages WHERE content <> '';

--bun:split

-- The company leads both GIN indexes (btree_gin), so a search reads only its own
-- company's matches: for a common word ("delivery", 5,600 of a company's 105,000
-- messages; 53,000 in all companies) 4,650 pages instead of 20,900, 28 ms instead of
-- 130 ms. The condition must compare bigint to bigint (company_id = ?::bigint):
-- btree_gin has no cross-type operators, and bigint = integer is not indexable.
CREATE EXTENSION IF NOT EXISTS btree_gin;

--bun:split

CREATE INDEX message_search_search_idx ON message_search USING gin (company_id, search);

--bun:split

CREATE INDEX message_search_content_trgm_idx ON message_search USING gin (company_id, content gin_trgm_ops);

--bun:split

-- As 000510 did for messages.search: a large sample keeps the planner's guess of a
-- rare word's matches within a few per cent.
ALTER TABLE message_search ALTER COLUMN search SET STATISTICS 1000;

--bun:split

-- The row is written by a trigger, not by the code that inserts messages: it covers
-- every insert path (the inbound webhook, sending, the seed, test fixtures, bulk
-- loads such as the benchmark's dataset generator) and costs no round trip. The
-- price, measured with EXPLAIN ANALYZE on the inbound statement: ~50-75 µs of the
-- statement's ~250-300 µs, against ~20 µs for the same INSERT as a step of the
-- statement itself; a row-level trigger costs about the same. Per statement, with
-- a transition table: a bulk insert becomes one INSERT … SELECT, not a call per row.
CREATE FUNCTION message_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_search (message_id, company_id, datetime, content)
    SELECT id, company_id, datetime, content FROM inserted_messages WHERE content <> '';
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted_messages
    FOR EACH STATEMENT EXECUTE FUNCTION message_search_insert();

--bun:split

-- Drops messages_search_idx with it.
ALTER TABLE messages DROP COLUMN search;

--bun:split

DROP INDEX messages_content_trgm_idx;

--bun:split

-- Room on each page for the new versions of its rows: HOT needs the new version on
-- the same page as the old.
ALTER TABLE messages SET (fillfactor = 90);

--bun:split

-- Unread = received and not yet READ, as before, but as a column of its own: the
-- partial index below depends on it, not on status, so the status callbacks of sent
-- messages (unread stays false) can be HOT. Rewrites the table (with the fillfactor).
ALTER TABLE messages ADD COLUMN unread boolean NOT NULL
    GENERATED ALWAYS AS (direction = 'RECEIVED' AND status <> 'READ') STORED;

--bun:split

DROP INDEX messages_unread_idx;

--bun:split

CREATE INDEX messages_unread_idx ON messages (conversation_id) WHERE unread;

--bun:split

ANALYZE messages;

--bun:split

ANALYZE message_search;
