-- The agent's inbox ("open, mine": company, assignee and status), measured on the
-- million-message dataset (BENCHMARKS.md).
--
-- The inbox page is a prepared statement, run with a generic plan, which guesses
-- its rows from each condition's selectivity as if they were independent:
-- company_id = $1 (one in ten) × assignee_id = $3 × status = $2 gave 17 of one
-- agent's OPEN conversations, fewer than a page (21). Expecting no more than a
-- page, the planner read every match through a bitmap and sorted them (421 rows,
-- 213 heap pages, 1.1 ms) instead of walking conversations_assignee_status_updated_idx
-- in order and stopping at the page's end (0.2 ms). But an agent belongs to one
-- company: the assignee determines the company, and the guess must not count the
-- company twice. These statistics tell the planner (66 rows; the walk).
CREATE STATISTICS conversations_assignee_company_stats (dependencies) ON company_id, assignee_id FROM conversations;

--bun:split

ANALYZE conversations;
