package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/connectme/connectme/auth"
)

// generate fills a freshly migrated database. Everything is made by the server from
// generate_series in a handful of statements; the messages table is loaded without
// its secondary indexes and foreign keys, which are then rebuilt and validated in
// bulk (much faster than a million index insertions and trigger calls).
func generate(ctx context.Context, bdb *bun.DB, s Sizes, params string, log func(string, ...any)) (time.Time, error) {
	conn, err := bdb.Conn(ctx)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return time.Time{}, err
	}
	var gen time.Time
	if err := conn.QueryRowContext(ctx, "SELECT date_trunc('second', now())").Scan(&gen); err != nil {
		return time.Time{}, err
	}
	steps := []struct {
		what  string
		sql   string
		args  []any
		quiet bool
	}{
		{what: "session", quiet: true, sql: `SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'; SET synchronous_commit = off`},
		{what: "uuid7", quiet: true, sql: `CREATE OR REPLACE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid AS $$
			-- A version 7 UUID: 48 bits of Unix milliseconds, then random bits.
			SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
				PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
				52, 1), 53, 1), 'hex')::uuid
			$$ LANGUAGE sql VOLATILE`},
		{what: "channels", quiet: true, sql: `INSERT INTO channels (id, name) VALUES (2, 'SMS') ON CONFLICT DO NOTHING`},
		{what: "companies", sql: `INSERT INTO companies (id, name, whatsapp_number, created_at)
			SELECT g, 'Bench Company ' || g, 'whatsapp:+1415555' || lpad(g::text, 4, '0'), ?::timestamptz - interval '100 days'
			FROM generate_series(1, ?) g`, args: []any{gen, s.Companies}},
		// Agent n is user n of company n; contacts follow.
		{what: "agents", sql: `INSERT INTO users (id, company_id, kind, first_name, last_name, phone, email, password_hash, role, created_at, updated_at)
			SELECT g, g, 'AGENT', 'Agent', 'Bench ' || g, '+1415666' || lpad(g::text, 4, '0'),
				'agent' || g || '@bench.connectme', ?, 'OWNER', ?::timestamptz - interval '100 days', ?::timestamptz - interval '100 days'
			FROM generate_series(1, ?) g`, args: []any{hash, gen, gen, s.Companies}},
		{what: "contacts", sql: `INSERT INTO users (id, company_id, kind, first_name, last_name, phone, created_at, updated_at)
			SELECT ? + 1 + j, 1 + j % ?, 'CONTACT',
				(ARRAY['Amaya','Kasun','Nimal','Dilini','Saman','Chamari','Ruwan','Tharindu','Ishara','Nadeesha',
				       'John','Mary','Lucía','Ahmed','Priya','Chen','Olga','Kofi','Ana','Yuki'])[1 + j % 20],
				(ARRAY['Perera','Silva','Fernando','Jayasinghe','Bandara','Dissanayake','Smith','García','Khan','Wang',
				       'Ivanova','Mensah','Costa','Tanaka','Herath','Wijesinghe','Rathnayake','Gunawardena','Kumara','Senanayake'])[1 + (j / 20) % 20],
				'+947' || lpad(j::text, 8, '0'), ?::timestamptz - interval '100 days', ?::timestamptz - interval '100 days'
			FROM generate_series(0, ? - 1) j`, args: []any{s.Companies, s.Companies, gen, gen, s.Contacts}},
		// Conversation i is contact i mod contacts on channel 1 + i div contacts. Its
		// message count follows a Zipf-like law (exponent 0.6) over a random ranking:
		// about ten for most, thousands for the busiest.
		{what: "conversation sizes", quiet: true, sql: `CREATE TEMP TABLE bench_conv AS
			WITH r AS (
				SELECT i, row_number() OVER (ORDER BY md5(i::text)) AS rk FROM generate_series(0, ? - 1) i
			), w AS (
				SELECT i, rk, sum(power(rk, -0.6)) OVER (ORDER BY rk) AS cw, sum(power(rk, -0.6)) OVER () AS tw FROM r
			), c AS (
				SELECT i, rk, round(? * cw / tw)::bigint AS cum FROM w
			)
			SELECT i + 1 AS id, 1 + (i % ?) % ? AS company_id, ? + 1 + i % ? AS user_id, 1 + i / ? AS channel_id,
				? + cum - coalesce(lag(cum) OVER (ORDER BY rk), 0) AS n,
				random() AS a, random() AS b
			FROM c`, args: []any{s.Conversations, s.Messages - base(s)*s.Conversations,
			s.Contacts, s.Companies, s.Companies, s.Contacts, s.Contacts, base(s)}},
		// The team's workflow, spread over the conversations: 60 % OPEN, 10 % PENDING,
		// 10 % SNOOZED (for 80 days after generation), 20 % RESOLVED; a third assigned
		// to the company's agent (the benchmark's caller), the rest unassigned.
		{what: "conversations", sql: `INSERT INTO conversations (id, company_id, user_id, channel_id, created_at,
				status, snoozed_until, assignee_id)
			SELECT id, company_id, user_id, channel_id, ?::timestamptz - interval '100 days',
				(ARRAY['OPEN','OPEN','OPEN','OPEN','OPEN','OPEN','PENDING','SNOOZED','RESOLVED','RESOLVED'])[1 + (hashint8(id) & 1023) % 10],
				CASE WHEN (hashint8(id) & 1023) % 10 = 7 THEN ?::timestamptz + interval '80 days' END,
				CASE WHEN (hashint8(id) >> 10 & 1023) % 3 = 0 THEN company_id END
			FROM bench_conv`, args: []any{gen, gen}},
		// A pool of sentences drawn from the vocabulary with a skew; one in ten
		// carries a product code (the rare search term: a few messages per company).
		{what: "sentences", quiet: true, sql: `CREATE TEMP TABLE bench_sentences AS
			SELECT s AS id, array_to_string(ARRAY(
					SELECT (?::text[])[1 + floor(? * power(random(), 2.2))::int]
					FROM generate_series(1, 3 + (s % 9))
				), ' ') || CASE WHEN s % 10 = 0 THEN ' sku' || (1000 + (hashint4(s) & 8191)) ELSE '' END AS content
			FROM generate_series(1, 20000) s`, args: []any{pgdialect.Array(words), len(words)}},
		{what: "sentence index", quiet: true, sql: `CREATE UNIQUE INDEX ON bench_sentences (id); ANALYZE bench_sentences; ANALYZE bench_conv`},
	}
	run := func(what, q string, args []any, quiet bool) error {
		t := time.Now()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !quiet {
			log("  %-28s %s", what, time.Since(t).Round(10*time.Millisecond))
		}
		return nil
	}
	for _, st := range steps {
		if err := run(st.what, st.sql, st.args, st.quiet); err != nil {
			return time.Time{}, err
		}
	}

	// Load messages without secondary indexes and foreign keys; put them back after.
	// The same for message_search, which a trigger fills as the messages go in.
	var indexes, fks []struct{ name, def string }
	rows, err := conn.QueryContext(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN ('messages'::regclass, 'message_search'::regclass) AND NOT i.indisprimary`)
	if err != nil {
		return time.Time{}, err
	}
	if indexes, err = scanPairs(rows); err != nil {
		return time.Time{}, err
	}
	// name: the table and the constraint, quoted for ALTER TABLE.
	rows, err = conn.QueryContext(ctx, `SELECT format('%s %I', conrelid::regclass, conname), pg_get_constraintdef(oid)
		FROM pg_constraint WHERE conrelid IN ('messages'::regclass, 'message_search'::regclass) AND contype = 'f'`)
	if err != nil {
		return time.Time{}, err
	}
	if fks, err = scanPairs(rows); err != nil {
		return time.Time{}, err
	}
	for _, ix := range indexes {
		if err := run("drop index", fmt.Sprintf("DROP INDEX %q", ix.name), nil, true); err != nil {
			return time.Time{}, err
		}
	}
	for _, fk := range fks {
		table, con, _ := strings.Cut(fk.name, " ")
		if err := run("drop constraint", fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, con), nil, true); err != nil {
			return time.Time{}, err
		}
	}

	// Message k of a conversation falls in the k-th slice of the conversation's span,
	// so the newest messages are the last ones drawn. Half are received; of the rest
	// most are delivered or read, a few failed. The last received messages of one
	// conversation in four are unread. One in a hundred carries an image, one in a
	// hundred (sent) is a template. Rows go in in time order, so the time-ordered
	// primary key is appended to, not split.
	progress := startProgress(ctx, bdb, s.Messages, log)
	err = run(fmt.Sprintf("messages (%d)", s.Messages), `INSERT INTO messages (id, company_id, conversation_id, sender_id, direction,
			message_type, content, template_id, template_params, datetime, status, provider_sid, error_code, created_at)
		SELECT id, company_id, conv_id, CASE WHEN recv THEN contact_id ELSE company_id END,
			CASE WHEN recv THEN 'RECEIVED' ELSE 'SENT' END,
			CASE WHEN r3 < 0.01 THEN 'MEDIA' WHEN r3 < 0.02 AND NOT recv THEN 'TEMPLATE' ELSE 'TEXT' END,
			CASE WHEN r3 < 0.01 AND r2 < 0.5 THEN NULL
				WHEN r3 < 0.02 AND NOT recv THEN 'Hi there! Thanks for contacting Us.  We are happy to create your demo account and will send you login credentials shortly..'
				ELSE content END,
			CASE WHEN r3 >= 0.01 AND r3 < 0.02 AND NOT recv THEN 1 END,
			CASE WHEN r3 >= 0.01 AND r3 < 0.02 AND NOT recv THEN ARRAY['there'] END,
			dt,
			CASE WHEN recv THEN CASE WHEN k > n - 3 AND conv_id % 4 = 0 THEN 'PENDING' ELSE 'READ' END
				WHEN r2 < 0.02 THEN 'FAILED' WHEN r2 < 0.10 THEN 'SENT' WHEN r2 < 0.40 THEN 'DELIVERED' ELSE 'READ' END,
			CASE WHEN recv THEN 'SM' ELSE 'MM' END || replace(id::text, '-', ''),
			CASE WHEN NOT recv AND r2 < 0.02 THEN '30008' END,
			dt
		FROM (
			SELECT pg_temp.uuid7(dt) AS id, m.*, s.content FROM (
				SELECT c.id AS conv_id, c.company_id, c.user_id AS contact_id, c.n, k,
					t0 + (t1 - t0) * ((k - 1 + random()) / c.n) AS dt,
					random() < 0.5 AS recv, random() AS r2, random() AS r3,
					1 + floor(random() * 20000)::int AS sentence
				FROM (SELECT *, ?::timestamptz - ? * (0.3 + 0.7 * a) * interval '1 day' AS t0 FROM bench_conv) c
				CROSS JOIN LATERAL (SELECT c.t0 + (?::timestamptz - c.t0) * (1 - power(c.b, 3)) AS t1) e
				CROSS JOIN LATERAL generate_series(1, c.n) AS k
				OFFSET 0
			) m JOIN bench_sentences s ON s.id = m.sentence
			OFFSET 0
		) x
		ORDER BY dt`, []any{gen, s.Days, gen}, false)
	progress()
	if err != nil {
		return time.Time{}, err
	}
	post := []struct{ what, sql string }{
		{"attachments", `INSERT INTO attachments (company_id, message_id, ord, type, filename, filesize, content_type,
				storage_key, state, next_fetch_at, created_at)
			SELECT company_id, id, 0, 'IMAGE', 'photo.jpg', 48213, 'image/jpeg', 'bench/' || id, 'STORED', datetime, datetime
			FROM messages WHERE message_type = 'MEDIA'`},
	}
	for _, ix := range indexes {
		post = append(post, struct{ what, sql string }{"index " + ix.name, ix.def})
	}
	for _, fk := range fks {
		table, con, _ := strings.Cut(fk.name, " ")
		post = append(post, struct{ what, sql string }{"foreign key " + con,
			fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, con, fk.def)})
	}
	post = append(post,
		struct{ what, sql string }{"conversation times", `UPDATE conversations c SET last_update_time = x.lut, last_free_message_time = x.lfmt
			FROM (SELECT conversation_id, max(datetime) AS lut, max(datetime) FILTER (WHERE direction = 'RECEIVED') AS lfmt
				FROM messages GROUP BY conversation_id) x
			WHERE x.conversation_id = c.id`},
		// Every company has the labels of benchLabels; conversation i carries label k
		// when a hash of (i, k) falls in the label's share (billing: one in four).
		struct{ what, sql string }{"labels", `INSERT INTO labels (company_id, name, created_at)
			SELECT c.id, l.name, c.created_at FROM companies c CROSS JOIN unnest(ARRAY['VIP', 'billing', 'support', 'lead']) AS l(name);
			INSERT INTO conversation_labels (conversation_id, label_id, company_id)
			SELECT c.id, l.id, c.company_id FROM conversations c JOIN labels l ON l.company_id = c.company_id
			WHERE (hashint8(c.id * 7 + l.id) & 1023) < CASE l.name WHEN 'VIP' THEN 51 WHEN 'billing' THEN 256
				WHEN 'support' THEN 410 ELSE 102 END`},
		struct{ what, sql string }{"sequences", `SELECT setval(pg_get_serial_sequence('companies', 'id'), (SELECT max(id) FROM companies));
			SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
			SELECT setval(pg_get_serial_sequence('conversations', 'id'), (SELECT max(id) FROM conversations))`},
		struct{ what, sql string }{"saved times", `CREATE TABLE bench_conv_times AS
			SELECT id, last_update_time, last_free_message_time, status, snoozed_until, assignee_id FROM conversations;
			ALTER TABLE bench_conv_times ADD PRIMARY KEY (id)`},
		struct{ what, sql string }{"vacuum analyze", `VACUUM (ANALYZE)`},
	)
	for _, p := range post {
		if err := run(p.what, p.sql, nil, false); err != nil {
			return time.Time{}, err
		}
	}
	if err := run("meta", `CREATE TABLE bench_meta (params jsonb NOT NULL, generated_at timestamptz NOT NULL);
		INSERT INTO bench_meta VALUES (?::jsonb, now())`, []any{params}, true); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err = conn.QueryRowContext(ctx, "SELECT generated_at FROM bench_meta").Scan(&at)
	return at, err
}

// base is the smallest number of messages a conversation gets.
func base(s Sizes) int { return min(10, s.Messages/s.Conversations) }

func scanPairs(rows *sql.Rows) ([]struct{ name, def string }, error) {
	defer rows.Close()
	var out []struct{ name, def string }
	for rows.Next() {
		var p struct{ name, def string }
		if err := rows.Scan(&p.name, &p.def); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// startProgress shows, every few seconds, how far the long insert is (from the
// table's size on disk, since its rows are not visible until it commits).
func startProgress(ctx context.Context, bdb *bun.DB, total int, log func(string, ...any)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				var tuples int64
				// Heap pages written so far, at roughly a known number of rows a page.
				_ = bdb.QueryRowContext(ctx, `SELECT pg_relation_size('messages') / 8192 * 28`).Scan(&tuples)
				pct := min(99, 100*float64(tuples)/float64(total))
				log("  messages: ~%.0f%% after %s", pct, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { cancel(); <-done }
}
