package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const messagesQuery = `query($c: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(conversationId: $c, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id content direction status type datetime sender { id } attachments { id } conversation { id } } }
  }
}`

type msgConn struct {
	Messages struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Content, Direction, Status, Type string
				Datetime                             time.Time
				Sender                               *struct{ ID string }
				Conversation                         struct{ ID string }
			}
		}
	}
}

func TestMessages_PagingWhileMessagesArrive(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	base := ago(app, 10*time.Hour)
	want := map[string]bool{}
	for i := 0; i < 25; i++ {
		// Some share a timestamp: the id breaks the tie.
		m := testkit.Message(t, app.DB, conv, db.DirectionReceived, fmt.Sprint("m", i), base.Add(time.Duration(i/2)*time.Minute))
		want[m.HexID()] = true
	}
	seen := map[string]bool{}
	var after *string
	var prev *time.Time
	for page := 0; ; page++ {
		var out msgConn
		gql(t, app, a.token, messagesQuery, map[string]any{"c": fmt.Sprint(conv.ID), "first": 7, "after": after}, &out)
		for _, e := range out.Messages.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("duplicate %s on page %d", e.Node.ID, page)
			}
			seen[e.Node.ID] = true
			if prev != nil && e.Node.Datetime.After(*prev) {
				t.Fatalf("not newest first")
			}
			d := e.Node.Datetime
			prev = &d
		}
		// A new message arrives between pages: it is newer than every page, so it
		// neither shifts nor repeats what follows.
		testkit.Message(t, app.DB, conv, db.DirectionReceived, "late", app.Clock.Now())
		if !out.Messages.PageInfo.HasNextPage {
			break
		}
		after = out.Messages.PageInfo.EndCursor
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("gap: %s never seen", id)
		}
	}
	if len(seen) != 25 {
		t.Errorf("saw %d messages, want 25", len(seen))
	}
}

func TestMessages_LastBeforeWalksForward(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, testkit.Message(t, app.DB, conv, db.DirectionSent, fmt.Sprint(i), ago(app, time.Duration(10-i)*time.Minute)).HexID())
	}
	// The 3 oldest, still in list order (newest first).
	var out msgConn
	gql(t, app, a.token, messagesQuery, map[string]any{"c": fmt.Sprint(conv.ID), "last": 3}, &out)
	got := []string{}
	for _, e := range out.Messages.Edges {
		got = append(got, e.Node.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{ids[2], ids[1], ids[0]}) || !out.Messages.PageInfo.HasPreviousPage {
		t.Fatalf("last 3 = %v (prev %v), want %v", got, out.Messages.PageInfo.HasPreviousPage, []string{ids[2], ids[1], ids[0]})
	}
	// The newer ones before the start cursor.
	gql(t, app, a.token, messagesQuery, map[string]any{"c": fmt.Sprint(conv.ID), "last": 2, "before": out.Messages.PageInfo.StartCursor}, &out)
	got = got[:0]
	for _, e := range out.Messages.Edges {
		got = append(got, e.Node.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{ids[4], ids[3]}) {
		t.Errorf("before = %v, want %v", got, []string{ids[4], ids[3]})
	}
	if out.Messages.TotalCount != 6 {
		t.Errorf("totalCount %d", out.Messages.TotalCount)
	}
}

func TestMessages_TenancyAndBadInput(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	theirs := testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Hour))
	testkit.Message(t, app.DB, theirs, db.DirectionReceived, "secret", ago(app, time.Hour))
	mine := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	res := app.GraphQL(a.token, messagesQuery, map[string]any{"c": fmt.Sprint(theirs.ID)})
	if res.Code() != "FORBIDDEN" || string(res.Data) != "null" {
		t.Errorf("other company's messages: %+v %s", res.Errors, res.Data)
	}
	for name, vars := range map[string]map[string]any{
		"first and last":  {"c": fmt.Sprint(mine.ID), "first": 1, "last": 1},
		"first 101":       {"c": fmt.Sprint(mine.ID), "first": 101},
		"last -1":         {"c": fmt.Sprint(mine.ID), "last": -1},
		"bad after":       {"c": fmt.Sprint(mine.ID), "after": "zzz"},
		"bad before":      {"c": fmt.Sprint(mine.ID), "before": "eyJrIjoibSIsInQiOiIyMDIwIn0"},
		"conversation id": {"c": "x1"},
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, app, a.token, messagesQuery, vars, "BAD_USER_INPUT") })
	}
}

func TestSearchMessages_RankedPrefixSubstringAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	older := testkit.Message(t, app.DB, conv, db.DirectionReceived, "my order 12345 is late, order please", ago(app, 3*time.Hour))
	newer := testkit.Message(t, app.DB, conv, db.DirectionReceived, "where is my order", ago(app, 2*time.Hour))
	testkit.Message(t, app.DB, conv, db.DirectionReceived, "nothing to see", ago(app, time.Hour))
	other := testkit.Conversation(t, app.DB, b.company.ID, ago(app, time.Hour))
	testkit.Message(t, app.DB, other, db.DirectionReceived, "order from the other company", ago(app, time.Minute))

	q := `query($term: String!, $first: Int, $after: String) { searchMessages(term: $term, first: $first, after: $after) {
	  totalCount pageInfo { hasNextPage endCursor } edges { node { id content } } } }`
	type res struct {
		SearchMessages struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct{ Node struct{ ID, Content string } }
		}
	}
	var out res
	gql(t, app, a.token, q, map[string]any{"term": "order"}, &out)
	s := out.SearchMessages
	if s.TotalCount != 2 || len(s.Edges) != 2 {
		t.Fatalf("order: %+v", s)
	}
	if s.Edges[0].Node.ID != older.HexID() {
		t.Errorf("best match first: got %s, want the message saying order twice", s.Edges[0].Node.Content)
	}
	// Prefix of a word.
	gql(t, app, a.token, q, map[string]any{"term": "ord"}, &out)
	if out.SearchMessages.TotalCount != 2 {
		t.Errorf("prefix: %+v", out.SearchMessages)
	}
	// Part of a number.
	gql(t, app, a.token, q, map[string]any{"term": "234"}, &out)
	if out.SearchMessages.TotalCount != 1 || out.SearchMessages.Edges[0].Node.ID != older.HexID() {
		t.Errorf("substring of a number: %+v", out.SearchMessages)
	}
	// Paging by cursor, one at a time.
	gql(t, app, a.token, q, map[string]any{"term": "order", "first": 1}, &out)
	first := out.SearchMessages.Edges[0].Node.ID
	gql(t, app, a.token, q, map[string]any{"term": "order", "first": 1, "after": out.SearchMessages.PageInfo.EndCursor}, &out)
	if len(out.SearchMessages.Edges) != 1 || out.SearchMessages.Edges[0].Node.ID == first || out.SearchMessages.Edges[0].Node.ID != newer.HexID() {
		t.Errorf("second page: %+v", out.SearchMessages)
	}
	// Nothing of the other company; SQL-ish input is just text.
	gql(t, app, a.token, q, map[string]any{"term": "other company"}, &out)
	if out.SearchMessages.TotalCount != 0 {
		t.Errorf("crossed tenants: %+v", out.SearchMessages)
	}
	gql(t, app, a.token, q, map[string]any{"term": "'; DROP TABLE messages; --"}, &out)
	for name, term := range map[string]string{"empty": "", "blank": "   ", "too long": string(make([]byte, 201))} {
		t.Run(name, func(t *testing.T) { wantCode(t, app, a.token, q, map[string]any{"term": term}, "BAD_USER_INPUT") })
	}
}

func TestQueryCount_ConstantForTenOrHundredConversations(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	for i := 0; i < 100; i++ {
		c := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Duration(i)*time.Minute))
		testkit.Message(t, app.DB, c, db.DirectionReceived, "hi", ago(app, time.Duration(i)*time.Minute))
	}
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	q := `query($n: Int) { conversations(first: $n) { totalCount edges { node { id
	  contact { firstName phone } lastMessage { content sender { id } attachments { id } template { id } } unreadCount } } } }`
	count := func(n int) int64 {
		counter.n.Store(0)
		var out convList
		gql(t, app, a.token, q, map[string]any{"n": n}, &out)
		if len(out.Conversations.Edges) != n {
			t.Fatalf("got %d edges, want %d", len(out.Conversations.Edges), n)
		}
		return counter.n.Load()
	}
	ten, hundred := count(10), count(100)
	if ten != hundred || hundred > 8 {
		t.Errorf("queries: %d for 10 conversations, %d for 100; want the same small number", ten, hundred)
	}
	t.Logf("queries per page: %d", hundred)
}
