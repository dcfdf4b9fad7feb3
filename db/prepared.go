package db

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// Prepared statements for the hottest reads: a page of messages and an inbox page
// with its summaries.
//
// Bun formats every argument into a statement's text, and pgdriver sends that text
// with the simple protocol, so PostgreSQL parses and plans the statement on every
// call. For a keyset page that costs more than running it: on the 1M-message
// dataset (EXPLAIN (ANALYZE, SUMMARY), warm session) a messages page plans in
// 0.09-0.15 ms and runs in 0.04-0.05 ms, an inbox page with its summaries plans in
// 0.34-0.46 ms and runs in 0.34-0.51 ms; pgbench gets 1.9 and 2.6 times the
// statements per second through them prepared (BENCHMARKS.md). So these statements
// are written with parameters ($1, $2...) and prepared: database/sql keeps one
// per connection of the pool (preparing it again on a new connection), PostgreSQL
// parses it once per connection and, after five runs, keeps one generic plan (the
// plans of these keyset pages do not depend on the values).
//
// Their text names every column (never *), so a migration that adds a column does
// not change a prepared statement's result type (which PostgreSQL would refuse to
// run). Behind a pooler in transaction mode (PgBouncer), named prepared statements
// need its max_prepared_statements (1.21 and later).

// params collects the values of a prepared statement: arg returns the placeholder
// of a value, which goes into the text through bun's formatting untouched.
type params struct{ args []any }

// val is v itself when p is nil (a statement with its values in place, formatted by
// Bun), else v's placeholder.
func (p *params) val(v any) any {
	if p == nil {
		return v
	}
	return p.arg(v)
}

func (p *params) arg(v any) bun.Safe {
	p.args = append(p.args, v)
	return bun.Safe("$" + strconv.Itoa(len(p.args)))
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// stmts are the prepared statements by database and text; each text is one shape
// of a statement (which optional conditions it has, which columns it reads).
var stmts sync.Map

// MaxPreparedStatements bounds the statement texts prepared per database. The
// shapes an application asks are a few dozen, but the columns a query reads follow
// its selection, so a client cycling through field combinations could make
// thousands, each prepared on every pool connection and kept by PostgreSQL for the
// connection's life. Past the bound a new text runs unprepared (planned on each
// call, as Bun's own statements are); the texts prepared first stay.
var MaxPreparedStatements int64 = 256

// preparedCount counts the texts prepared per database (*sql.DB → *atomic.Int64).
var preparedCount sync.Map

// statementHooks are the Bun query hooks that also see the prepared statements, by
// database (AddStatementHook).
var statementHooks sync.Map

// AddStatementHook adds a Bun query hook that sees every statement of bdb: Bun's own
// and the prepared ones, which Bun's hooks do not see (tests count statements).
func AddStatementHook(bdb *bun.DB, h bun.QueryHook) {
	bdb.AddQueryHook(h)
	for {
		old, _ := statementHooks.Load(bdb)
		hooks, _ := old.([]bun.QueryHook)
		next := append(append([]bun.QueryHook(nil), hooks...), h)
		if old == nil {
			if _, loaded := statementHooks.LoadOrStore(bdb, next); !loaded {
				return
			}
			continue
		}
		if statementHooks.CompareAndSwap(bdb, old, next) {
			return
		}
	}
}

// queryPrepared runs the prepared statement query with args on bdb and scans its
// rows into dest (as Bun scans a model).
func queryPrepared(ctx context.Context, bdb *bun.DB, query string, dest any, args ...any) error {
	st, err := prepare(ctx, bdb, query)
	if err != nil {
		return err
	}
	var hooks []bun.QueryHook
	if v, ok := statementHooks.Load(bdb); ok {
		hooks = v.([]bun.QueryHook)
	}
	var ev *bun.QueryEvent
	if len(hooks) > 0 {
		ev = &bun.QueryEvent{DB: bdb, Query: query, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
		for _, h := range hooks {
			ctx = h.BeforeQuery(ctx, ev)
		}
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = bdb.DB.QueryContext(ctx, query, args...)
	}
	if err == nil {
		err = bdb.ScanRows(ctx, rows, dest)
	}
	if ev != nil {
		ev.Err = err
		for i := len(hooks) - 1; i >= 0; i-- {
			hooks[i].AfterQuery(ctx, ev)
		}
	}
	return err
}

// prepare returns bdb's prepared statement of query, preparing it on first use;
// nil (run it unprepared) once MaxPreparedStatements texts are prepared.
func prepare(ctx context.Context, bdb *bun.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{bdb.DB, query}
	if v, ok := stmts.Load(key); ok {
		return v.(*sql.Stmt), nil
	}
	c, _ := preparedCount.LoadOrStore(bdb.DB, new(atomic.Int64))
	count := c.(*atomic.Int64)
	if count.Add(1) > MaxPreparedStatements {
		count.Add(-1)
		return nil, nil
	}
	st, err := bdb.DB.PrepareContext(ctx, query)
	if err != nil {
		count.Add(-1)
		return nil, err
	}
	if v, loaded := stmts.LoadOrStore(key, st); loaded {
		count.Add(-1)
		_ = st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// PreparedStatements is how many statement texts are prepared for bdb.
func PreparedStatements(bdb *bun.DB) int64 {
	if c, ok := preparedCount.Load(bdb.DB); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}
