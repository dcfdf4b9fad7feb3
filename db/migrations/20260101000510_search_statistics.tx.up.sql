-- Search, measured on a million messages (BENCHMARKS.md).
--
-- With the default sample, the planner's guess of how many messages contain a rare
-- word swung between 1 and 25 times the truth from one ANALYZE to the next. When it
-- guessed high, it intersected the matches with all of the company's messages
-- (a bitmap of 100,000 entries from messages_company_datetime_idx): 95 ms for a term
-- found in 19 messages, instead of 1 ms. A larger sample of the tsvector's lexemes
-- keeps the guess within a few per cent.
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 1000;

--bun:split

ANALYZE messages;
