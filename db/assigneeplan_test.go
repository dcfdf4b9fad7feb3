package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The agent's inbox ("open, mine") runs as a prepared statement, with a generic
// plan: its page must walk conversations_assignee_status_updated_idx in order and
// stop at the page's end. Without the statistics of migration
// 20260301000800_assignee_statistics the planner took company, assignee and status
// for independent, expected fewer rows than a page, and read all of the agent's
// OPEN conversations through a bitmap, then sorted them.
func TestInboxMineOpen_GenericPlanWalksTheIndexInOrder(t *testing.T) {
	app := testkit.NewApp(t)
	ctx := context.Background()
	// The benchmark's shape: 10 companies of 2,000 conversations, interleaved in the
	// table, 60 % OPEN, a third assigned to the company's agent.
	var companies, agents []int64
	for range 10 {
		co := testkit.Company(t, app.DB)
		companies = append(companies, co.ID)
		agents = append(agents, testkit.Agent(t, app.DB, co.ID).ID)
	}
	if _, err := app.DB.NewRaw(`WITH co AS (SELECT * FROM unnest(?::bigint[], ?::bigint[]) AS x(company_id, agent_id)),
		contacts AS (
			INSERT INTO users (company_id, kind, first_name, phone)
			SELECT co.company_id, 'CONTACT', 'Contact', '+9478' || lpad((co.company_id * 10000 + j)::text, 9, '0')
			FROM generate_series(1, 2000) j, co ORDER BY j, co.company_id
			RETURNING id, company_id)
		INSERT INTO conversations (company_id, user_id, channel_id, last_update_time, status, assignee_id)
		SELECT c.company_id, c.id, ?, now() - (hashint8(c.id) & 65535) * interval '1 minute',
			(ARRAY['OPEN','OPEN','OPEN','OPEN','OPEN','OPEN','PENDING','PENDING','RESOLVED','RESOLVED'])[1 + (hashint8(c.id) & 1023) % 10],
			CASE WHEN (hashint8(c.id) >> 10 & 1023) % 3 = 0 THEN co.agent_id END
		FROM contacts c JOIN co USING (company_id) ORDER BY hashint8(c.id)`,
		pgdialect.Array(companies), pgdialect.Array(agents), db.ChannelWhatsApp).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.ExecContext(ctx, "ANALYZE conversations"); err != nil {
		t.Fatal(err)
	}

	capture := &testkit.Statements{}
	db.AddStatementHook(app.DB, capture)
	capture.Take()
	f := db.ConversationFilter{Statuses: []string{db.ConversationOpen}, AssigneeIDs: []int64{agents[0]}}
	page, _, err := db.ListConversationSummaries(ctx, app.DB, companies[0], f, nil, 21,
		db.SummaryParts{Contact: true, LastMessage: true, Unread: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 21 {
		t.Fatalf("page of %d conversations, want 21", len(page))
	}
	var seen []testkit.Statement
	for _, st := range capture.Take() {
		if strings.Contains(st.Query, "assignee_id") && len(st.Args) > 0 {
			seen = append(seen, st)
		}
	}
	if len(seen) != 1 {
		t.Fatalf("%d prepared statements seen, want 1", len(seen))
	}
	query, args := seen[0].Query, seen[0].Args

	// The same statement, prepared by hand on one connection and explained with the
	// plan every later run of it uses.
	conn, err := app.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PREPARE mine AS "+query); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	marks := make([]string, len(args))
	for i := range args {
		marks[i] = "?"
	}
	var lines []string
	if err := conn.NewRaw("EXPLAIN EXECUTE mine("+strings.Join(marks, ", ")+")", args...).Scan(ctx, &lines); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "Index Scan using conversations_assignee_status_updated_idx") ||
		strings.Contains(plan, "Bitmap Heap Scan on conversations") {
		t.Fatalf("the generic plan of the agent's inbox does not walk the index in order:\n%s", plan)
	}
	t.Log(plan)
}
