package resolvers_test

import (
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const filteredQuery = `query($f: ConversationFilter, $first: Int, $after: String) {
  conversations(first: $first, after: $after, filter: $f) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status assignee { id } } } } }`

type filtered struct {
	Conversations struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct{ Node workflowConv }
	}
}

// inbox is a company whose conversations have a spread of statuses and assignees.
type inbox struct {
	tm                                  team
	mineOpen, mineOpen2, minePending    *db.Conversation
	adminOpen, unassignedOpen, resolved *db.Conversation
	snoozed                             *db.Conversation
}

func newInbox(t *testing.T, app *testkit.App) inbox {
	tm := newTeam(t, app)
	mk := func(status string, assignee *db.User, unread bool, at time.Duration) *db.Conversation {
		c := testkit.Conversation(t, app.DB, tm.company.ID, ago(app, at))
		if unread {
			testkit.Message(t, app.DB, c, db.DirectionReceived, "hi", ago(app, at))
		}
		var aid *int64
		if assignee != nil {
			aid = &assignee.ID
		}
		var until *time.Time
		if status == db.ConversationSnoozed {
			u := app.Clock.Now().Add(time.Hour)
			until = &u
		}
		if _, err := app.DB.NewRaw("UPDATE conversations SET status = ?, assignee_id = ?, snoozed_until = ? WHERE id = ?",
			status, aid, until, c.ID).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	return inbox{tm: tm,
		mineOpen:       mk("OPEN", tm.agent, true, time.Minute),
		mineOpen2:      mk("OPEN", tm.agent, false, 2*time.Minute),
		minePending:    mk("PENDING", tm.agent, true, 3*time.Minute),
		adminOpen:      mk("OPEN", tm.admin, true, 4*time.Minute),
		unassignedOpen: mk("OPEN", nil, false, 5*time.Minute),
		resolved:       mk("RESOLVED", nil, true, 6*time.Minute),
		snoozed:        mk("SNOOZED", tm.admin, false, 7*time.Minute),
	}
}

func ids(cs ...*db.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = id(c.ID)
	}
	return out
}

func TestConversations_StatusAndAssigneeFilters(t *testing.T) {
	app := testkit.NewApp(t)
	in := newInbox(t, app)
	other := newTenant(t, app)
	unreadOnly := true
	for _, tc := range []struct {
		name   string
		filter map[string]any
		want   []*db.Conversation
	}{
		{"no filter lists every status", nil, []*db.Conversation{in.mineOpen, in.mineOpen2, in.minePending, in.adminOpen,
			in.unassignedOpen, in.resolved, in.snoozed}},
		{"open and mine", map[string]any{"status": []string{"OPEN"}, "assignee": "ME"}, []*db.Conversation{in.mineOpen, in.mineOpen2}},
		{"mine, any status", map[string]any{"assignee": "ME"}, []*db.Conversation{in.mineOpen, in.mineOpen2, in.minePending}},
		{"unassigned", map[string]any{"assignee": "UNASSIGNED"}, []*db.Conversation{in.unassignedOpen, in.resolved}},
		{"anyone, open or snoozed", map[string]any{"assignee": "ANYONE", "status": []string{"OPEN", "SNOOZED"}},
			[]*db.Conversation{in.mineOpen, in.mineOpen2, in.adminOpen, in.snoozed}},
		{"an agent's id", map[string]any{"assigneeId": id(in.tm.admin.ID)}, []*db.Conversation{in.adminOpen, in.snoozed}},
		{"me and another's id", map[string]any{"assignee": "ME", "assigneeId": id(in.tm.admin.ID)}, nil},
		{"with unread", map[string]any{"assignee": "ME", "unreadOnly": unreadOnly}, []*db.Conversation{in.mineOpen, in.minePending}},
		{"resolved", map[string]any{"status": []string{"RESOLVED"}}, []*db.Conversation{in.resolved}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out filtered
			gql(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": tc.filter, "first": 50}, &out)
			var got []string
			for _, e := range out.Conversations.Edges {
				got = append(got, e.Node.ID)
			}
			want := ids(tc.want...)
			if len(got) != len(want) || out.Conversations.TotalCount != len(want) {
				t.Fatalf("got %v (total %d), want %v", got, out.Conversations.TotalCount, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v (in inbox order)", got, want)
				}
			}
		})
	}
	// Keyset paging through "open and mine".
	var p1, p2 filtered
	f := map[string]any{"status": []string{"OPEN"}, "assignee": "ME"}
	gql(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": f, "first": 1}, &p1)
	gql(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": f, "first": 1, "after": p1.Conversations.PageInfo.EndCursor}, &p2)
	if len(p1.Conversations.Edges) != 1 || !p1.Conversations.PageInfo.HasNextPage || len(p2.Conversations.Edges) != 1 ||
		p2.Conversations.Edges[0].Node.ID != id(in.mineOpen2.ID) || p2.Conversations.PageInfo.HasNextPage {
		t.Fatalf("pages: %+v / %+v", p1.Conversations, p2.Conversations)
	}
	// Bad input and tenancy.
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"assigneeId": id(other.agent.ID)}}, "FORBIDDEN")
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"assigneeId": "999999999"}}, "FORBIDDEN")
	contact := testkit.Contact(t, app.DB, in.tm.company.ID)
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"assigneeId": id(contact.ID)}}, "BAD_USER_INPUT")
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"assigneeId": "-1"}}, "BAD_USER_INPUT")
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"status": []string{"CLOSED"}}}, "GRAPHQL_VALIDATION_FAILED")
	wantCode(t, app, in.tm.agentTok, filteredQuery, map[string]any{"f": map[string]any{"assignee": "NOBODY"}}, "GRAPHQL_VALIDATION_FAILED")
	// The other company sees none of it.
	var theirs filtered
	gql(t, app, other.token, filteredQuery, map[string]any{"f": map[string]any{"assignee": "ANYONE"}}, &theirs)
	if theirs.Conversations.TotalCount != 0 {
		t.Fatalf("another company sees %+v", theirs.Conversations)
	}
}

func TestInboxCounts_OneStatementOfTheCallersCompany(t *testing.T) {
	app := testkit.NewApp(t)
	in := newInbox(t, app)
	other := newTenant(t, app)
	testkit.Conversation(t, app.DB, other.company.ID, time.Time{})
	type counts struct{ Open, Pending, Snoozed, Resolved, Mine, Unassigned, Unread int }
	var out struct{ InboxCounts counts }
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	gql(t, app, in.tm.agentTok, `{ inboxCounts { open pending snoozed resolved mine unassigned unread } }`, nil, &out)
	want := counts{Open: 4, Pending: 1, Snoozed: 1, Resolved: 1, Mine: 2, Unassigned: 1, Unread: 2}
	if out.InboxCounts != want {
		t.Fatalf("counts %+v, want %+v", out.InboxCounts, want)
	}
	if n := counter.n.Load(); n != 1 {
		t.Errorf("%d statements, want 1", n)
	}
	gql(t, app, other.token, `{ inboxCounts { open pending snoozed resolved mine unassigned unread } }`, nil, &out)
	if (out.InboxCounts != counts{Open: 1, Unassigned: 1}) {
		t.Fatalf("the other company's counts: %+v", out.InboxCounts)
	}
}
