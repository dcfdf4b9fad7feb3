package resolvers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const labelFilterQuery = `query($first: Int, $after: String, $filter: ConversationFilter) {
  conversations(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id labels { name } } } } }`

type labelPage struct {
	Conversations struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				ID     string
				Labels []label
			}
		}
	}
}

// filteredByLabel lists every conversation the filter keeps, walking pages of two.
func filteredByLabel(t *testing.T, app *testkit.App, tok string, filter map[string]any) (ids []string, total int) {
	t.Helper()
	var after *string
	for {
		var out labelPage
		gql(t, app, tok, labelFilterQuery, map[string]any{"first": 2, "after": after, "filter": filter}, &out)
		for _, e := range out.Conversations.Edges {
			ids = append(ids, e.Node.ID)
		}
		total = out.Conversations.TotalCount
		if !out.Conversations.PageInfo.HasNextPage {
			return ids, total
		}
		after = out.Conversations.PageInfo.EndCursor
	}
}

func idsOf(convs ...*db.Conversation) []string {
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = fmt.Sprint(c.ID)
	}
	return out
}

func TestConversationFilter_LabelsKeepsConversationsCarryingAllOfThem(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	// Newest first: c1 is the most recent.
	c1 := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Minute))
	c2 := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 2*time.Minute))
	c3 := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 30*time.Hour))
	c4 := testkit.Conversation(t, app.DB, a.company.ID, ago(app, 4*time.Minute))
	testkit.Conversation(t, app.DB, a.company.ID, ago(app, 5*time.Minute)) // no labels
	addLabels(t, app, a.token, c1, "VIP", "billing")
	addLabels(t, app, a.token, c2, "vip")
	addLabels(t, app, a.token, c3, "vip", "Billing")
	addLabels(t, app, a.token, c4, "billing")
	testkit.Message(t, app.DB, c3, db.DirectionReceived, "unread", ago(app, 30*time.Hour))
	if _, err := app.DB.NewRaw("UPDATE users SET first_name = 'Zebedee' WHERE id = ?", c2.UserID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Another company's label of the same name, on a newer conversation.
	foreign := testkit.Conversation(t, app.DB, b.company.ID, app.Clock.Now())
	addLabels(t, app, b.token, foreign, "vip")

	for _, tc := range []struct {
		name   string
		filter map[string]any
		want   []*db.Conversation
	}{
		{"one label", map[string]any{"labels": []string{"vip"}}, []*db.Conversation{c1, c2, c3}},
		{"other case and spaces", map[string]any{"labels": []string{" VIP "}}, []*db.Conversation{c1, c2, c3}},
		{"all of two", map[string]any{"labels": []string{"VIP", "billing"}}, []*db.Conversation{c1, c3}},
		{"a repeated name", map[string]any{"labels": []string{"billing", "BILLING"}}, []*db.Conversation{c1, c4, c3}},
		{"unknown name", map[string]any{"labels": []string{"nope"}}, nil},
		{"a known and an unknown name", map[string]any{"labels": []string{"vip", "nope"}}, nil},
		{"with unreadOnly", map[string]any{"labels": []string{"vip"}, "unreadOnly": true}, []*db.Conversation{c3}},
		{"with windowOpen", map[string]any{"labels": []string{"billing"}, "windowOpen": true}, []*db.Conversation{c1, c4}},
		{"with search", map[string]any{"labels": []string{"vip"}, "search": "zebedee"}, []*db.Conversation{c2}},
		{"empty list is no condition", map[string]any{"labels": []string{}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, total := filteredByLabel(t, app, a.token, tc.filter)
			want := idsOf(tc.want...)
			if tc.name == "empty list is no condition" {
				if len(ids) != 5 || total != 5 {
					t.Fatalf("got %v (total %d), want all 5", ids, total)
				}
				return
			}
			if !slices.Equal(ids, want) || total != len(want) {
				t.Fatalf("got %v (total %d), want %v", ids, total, want)
			}
		})
	}
	// The other company's filter sees only its own conversation.
	if ids, _ := filteredByLabel(t, app, b.token, map[string]any{"labels": []string{"VIP"}}); !slices.Equal(ids, idsOf(foreign)) {
		t.Fatalf("company b: %v", ids)
	}
}

func TestConversationFilter_BadLabelNamesAreRefused(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprint("l", i)
	}
	for _, tc := range []struct {
		name   string
		labels []string
	}{
		{"empty name", []string{""}},
		{"blank name", []string{"  "}},
		{"41 characters", []string{strings.Repeat("a", 41)}},
		{"control character", []string{"a\x02"}},
		{"21 names", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, app, a.token, labelFilterQuery, map[string]any{"filter": map[string]any{"labels": tc.labels}}, "BAD_USER_INPUT")
		})
	}
}

// A page's labels come in a constant number of queries, whatever its size.
func TestConversationLabels_ConstantQueriesForTenOrHundredConversations(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	for i := range 100 {
		c := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Duration(i)*time.Minute))
		addLabels(t, app, a.token, c, "all", fmt.Sprint("l", i%7))
	}
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	q := `query($n: Int) { conversations(first: $n) { edges { node { id labels { id name color conversationCount } } } } }`
	count := func(n int) int64 {
		counter.n.Store(0)
		var out labelPage
		gql(t, app, a.token, q, map[string]any{"n": n}, &out)
		if len(out.Conversations.Edges) != n {
			t.Fatalf("got %d edges, want %d", len(out.Conversations.Edges), n)
		}
		for _, e := range out.Conversations.Edges {
			if len(e.Node.Labels) != 2 || e.Node.Labels[0].Name != "all" || e.Node.Labels[0].ConversationCount != 100 {
				t.Fatalf("labels %+v", e.Node.Labels)
			}
		}
		return counter.n.Load()
	}
	ten, hundred := count(10), count(100)
	if ten != hundred || hundred > 4 {
		t.Errorf("queries: %d for 10 conversations, %d for 100; want the same small number", ten, hundred)
	}
	t.Logf("queries per page: %d", hundred)
	// The company's labels with their counts: two statements.
	counter.n.Store(0)
	if ls := labelsOf(t, app, a.token); len(ls) != 8 || ls[0].Name != "all" || ls[0].ConversationCount != 100 {
		t.Fatalf("labels %+v", ls)
	}
	if n := counter.n.Load(); n != 2 {
		t.Errorf("labels with counts took %d queries, want 2", n)
	}
}
