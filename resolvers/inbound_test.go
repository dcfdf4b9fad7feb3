package resolvers_test

import (
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// The webhook's cost on PostgreSQL is mostly per statement: the company, then one
// transaction with one statement for contact, conversation, message and events.
func TestReceiveMessage_StatementsPerTextMessage(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	counter := &queryCounter{}
	db.AddStatementHook(app.DB, counter)
	for i, sid := range []string{"SMfirst", "SMsecond"} {
		counter.n.Store(0)
		msg, dup, err := app.Resolver.ReceiveMessage(t.Context(), resolvers.InboundMessage{MessageSID: sid,
			From: "whatsapp:+94717936775", To: *company.WhatsAppNumber, Body: "hello", ProfileName: "Nimal"})
		if err != nil || dup {
			t.Fatalf("message %d: dup=%v err=%v", i, dup, err)
		}
		if msg.ConversationID == 0 || msg.SenderID == nil || *msg.SenderID == 0 || msg.CreatedAt.IsZero() {
			t.Errorf("message %d not filled: %+v", i, msg)
		}
		t.Logf("message %d: %d statements", i, counter.n.Load())
		// company, BEGIN, contact+conversation+message+events, COMMIT
		if n := counter.n.Load(); n > 4 {
			t.Errorf("message %d (contact new: %v): %d statements, want at most 4", i, i == 0, n)
		}
	}
	var convs, contacts int
	if err := app.DB.NewRaw(`SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM users WHERE kind = ?)`,
		db.KindContact).Scan(t.Context(), &convs, &contacts); err != nil {
		t.Fatal(err)
	}
	if convs != 1 || contacts != 1 {
		t.Errorf("%d conversations and %d contacts, want one each", convs, contacts)
	}
}
