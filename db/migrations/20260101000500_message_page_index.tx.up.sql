-- Paging a conversation's messages, measured on a million messages (BENCHMARKS.md).
--
-- Every message query also filters on company_id (tenancy), and the planner took the
-- two conditions for independent: it guessed a hundredth of a conversation's rows,
-- so for big conversations it counted through a BitmapAnd with the company-wide index
-- (600 ms for 6,000 messages) and for small ones it sorted the whole conversation
-- instead of reading the first page off the index. The conversation decides the
-- company; saying so fixes the estimates.
CREATE STATISTICS messages_conversation_company_stx (dependencies) ON conversation_id, company_id FROM messages;

--bun:split

-- The same keyset index as before, carrying company_id: counting a conversation's
-- messages for its company (the legacy page's totalCount) becomes an index-only scan.
CREATE INDEX messages_conversation_page_idx ON messages (conversation_id, datetime DESC, id DESC) INCLUDE (company_id);

--bun:split

DROP INDEX messages_conversation_datetime_idx;

--bun:split

ANALYZE messages;
