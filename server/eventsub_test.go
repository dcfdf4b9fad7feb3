package server_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

const eventsSub = `subscription($after: String) { events(after: $after) { id cursor type message { id } conversation { id } } }`

type eventMsg struct {
	ID, Cursor, Type string
	Message          *struct{ ID string }
}

// inbound stores n inbound messages for c through app, from writers goroutines
// at once, each writer on a conversation of its own.
func inbound(t *testing.T, app *testkit.App, c *db.Company, tag string, writers, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				_, _, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{
					MessageSID: fmt.Sprintf("SM%s%d", tag, i), From: fmt.Sprintf("whatsapp:+9471%07d", w),
					To: *c.WhatsAppNumber, Body: fmt.Sprintf("%s %d", tag, i)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// collect reads n events of the subscription id; it fails on an error, a
// complete, a close or a silence of 30 s.
func collect(t *testing.T, cl *wsClient, n int) []eventMsg {
	t.Helper()
	var out []eventMsg
	for len(out) < n {
		r, err := cl.next(30 * time.Second)
		if err != nil {
			t.Fatalf("after %d of %d events: %v (close %d)", len(out), n, err, closeStatus(err))
		}
		if r.Type == "complete" || len(r.Errors) > 0 {
			t.Fatalf("after %d of %d events: %s %+v", len(out), n, r.Type, r.Errors)
		}
		var d struct{ Events eventMsg }
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Events)
	}
	return out
}

// wantLog checks that got is exactly the company's logged events after from, in
// log order: none missing, none twice.
func wantLog(t *testing.T, app *testkit.App, companyID int64, from db.Position, got []eventMsg) {
	t.Helper()
	var want []db.Event
	if err := app.DB.NewSelect().Model(&want).Where("company_id = ?", companyID).
		Where("(xid, id) > (?, ?)", from.XID, from.ID).OrderExpr("xid, id").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, the log has %d", len(got), len(want))
	}
	for i, ev := range want {
		if got[i].ID != fmt.Sprint(ev.ID) || got[i].Cursor != resolvers.EventCursor(ev.Position()) || got[i].Type != ev.Type {
			t.Fatalf("event %d is %+v, the log's is %+v", i, got[i], ev)
		}
	}
}

// expectQuiet fails if the subscription sends anything within d.
func expectQuiet(t *testing.T, cl *wsClient, d time.Duration) {
	t.Helper()
	if r, err := cl.next(d); err == nil {
		t.Fatalf("unexpected %s %s %+v", r.Type, r.Data, r.Errors)
	}
}

// A client resumes from an old cursor on one instance while another instance
// writes: it gets what it missed, then what happens, every event once, in log
// order, on both protocols.
func TestEventsSubscription_ReplayThenLiveAcrossInstancesWithoutGapOrDuplicate(t *testing.T) {
	one := testkit.NewApp(t)
	two := testkit.NewAppOn(t, one.DB)
	a := tenantOf(t, one)
	var from db.Position // before every event of the company
	inbound(t, two, a.company, "missed", 3, 30)
	clients := map[string]*wsClient{}
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		cl, err := dialWS(t, one, proto, a.token)
		if err != nil {
			t.Fatal(err)
		}
		cl.subscribe("1", eventsSub, map[string]any{"after": resolvers.EventCursor(from)})
		clients[proto] = cl
	}
	// While they replay, the other instance writes from four conversations at once.
	inbound(t, two, a.company, "live", 4, 40)
	for proto, cl := range clients {
		got := collect(t, cl, 2*70)
		wantLog(t, one, a.company.ID, from, got)
		expectQuiet(t, cl, 300*time.Millisecond)
		t.Logf("%s: %d events", proto, len(got))
	}
}

// Killing the event listener's connection loses the notifications of the
// outage; the events subscription reads them from the log instead, and its
// socket stays open (no 4503).
func TestEventsSubscription_ListenerLossLosesNothing(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	var head struct{ EventsHead string }
	if res := app.GraphQL(a.token, `{ eventsHead }`, nil); len(res.Errors) > 0 || json.Unmarshal(res.Data, &head) != nil {
		t.Fatalf("eventsHead: %+v", res.Errors)
	}
	from, err := resolvers.ParseEventCursor(head.EventsHead)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	cl.subscribe("1", eventsSub, nil) // live from now
	eventually(t, 10*time.Second, "the subscription attaches", func() bool { return app.Bus.Subscribers() == 1 })
	done := make(chan struct{})
	go func() {
		defer close(done)
		inbound(t, app, a.company, "before", 2, 10)
		old := listeningPID(t, app)
		if _, err := app.DB.ExecContext(t.Context(), "SELECT pg_terminate_backend(?)", old); err != nil {
			t.Error(err)
		}
		// Committed while the listener is away: no notification reaches us.
		inbound(t, app, a.company, "during", 2, 10)
		eventually(t, 10*time.Second, "the listener is back", func() bool {
			ok, _ := app.Bus.Healthy()
			pid := listenerPID(t, app)
			return ok && pid != 0 && pid != old
		})
		inbound(t, app, a.company, "after", 2, 10)
	}()
	got := collect(t, cl, 2*30)
	<-done
	wantLog(t, app, a.company.ID, from, got)
	expectQuiet(t, cl, 300*time.Millisecond)
}

func TestEventsSubscription_BadCursorsAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a := tenantOf(t, app)
	b := tenantOf(t, app)
	inbound(t, app, a.company, "a", 1, 1)
	evsA := waitLogged(t, app, a.company.ID, 2)
	if _, err := app.DB.NewRaw("UPDATE events SET occurred_at = now() - interval '30 days' WHERE company_id = ?",
		a.company.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Resolver.PurgeEvents(t.Context()); err != nil {
		t.Fatal(err)
	}
	cl, err := dialWS(t, app, "graphql-transport-ws", a.token)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct{ after, code string }{
		{resolvers.EventCursor(db.Position{}), "CURSOR_EXPIRED"},
		{resolvers.EventCursor(evsA[0].Position()), "CURSOR_EXPIRED"},
		{"garbage", "BAD_USER_INPUT"},
	} {
		id := fmt.Sprint(i + 1)
		cl.subscribe(id, eventsSub, map[string]any{"after": tc.after})
		r, err := cl.next(10 * time.Second)
		for err == nil && r.Type == "complete" {
			r, err = cl.next(10 * time.Second)
		}
		if err != nil || len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != tc.code {
			t.Errorf("after %s: %+v %v, want %s", tc.after, r, err, tc.code)
		}
	}
	// B subscribes from A's position: it never sees A's events, only its own.
	clB, err := dialWS(t, app, "graphql-ws", b.token)
	if err != nil {
		t.Fatal(err)
	}
	clB.subscribe("1", eventsSub, map[string]any{"after": resolvers.EventCursor(evsA[1].Position())})
	inbound(t, app, a.company, "a2", 2, 4)
	inbound(t, app, b.company, "b", 1, 1)
	got := collect(t, clB, 2)
	for _, ev := range got {
		var n int
		if err := app.DB.NewRaw("SELECT count(*) FROM events WHERE id = ? AND company_id = ?", ev.ID, b.company.ID).
			Scan(t.Context(), &n); err != nil || n != 1 {
			t.Errorf("B got event %s, not one of its own", ev.ID)
		}
	}
	expectQuiet(t, clB, 300*time.Millisecond)
}

// waitLogged waits until the company has n final events and returns them.
func waitLogged(t *testing.T, app *testkit.App, companyID int64, n int) []*db.Event {
	t.Helper()
	var evs []*db.Event
	eventually(t, 30*time.Second, "the events are final", func() bool {
		var err error
		evs, _, err = db.EventsAfter(t.Context(), app.DB, companyID, db.Position{}, n)
		return err == nil && len(evs) == n
	})
	return evs
}
