package resolvers_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// tenant is a company with an agent and its token.
type tenant struct {
	company *db.Company
	agent   *db.User
	token   string
}

func newTenant(t *testing.T, app *testkit.App) tenant {
	t.Helper()
	c := testkit.Company(t, app.DB)
	a := testkit.Agent(t, app.DB, c.ID)
	return tenant{company: c, agent: a, token: app.Token(a)}
}

// gql runs a query that must succeed and decodes its data into out.
func gql(t *testing.T, app *testkit.App, token, query string, vars map[string]any, out any) {
	t.Helper()
	res := app.GraphQL(token, query, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("graphql errors: %+v", res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode %s: %v", res.Data, err)
		}
	}
}

// wantCode runs a query that must fail with the given extensions.code.
func wantCode(t *testing.T, app *testkit.App, token, query string, vars map[string]any, code string) {
	t.Helper()
	res := app.GraphQL(token, query, vars)
	if res.Code() != code {
		t.Fatalf("want %s, got errors %+v data %s", code, res.Errors, res.Data)
	}
}

// queryCounter is a Bun query hook that counts statements.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (q *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) { q.n.Add(1) }

func ago(app *testkit.App, d time.Duration) time.Time { return app.Clock.Now().Add(-d) }

// pgStrings scans a PostgreSQL text[] into a Go slice.
func pgStrings(dst *[]string) any { return pgdialect.Array(dst) }
