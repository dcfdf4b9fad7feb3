package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/testkit"
)

// narrowFixture is a conversation whose contact and newest message have every
// column set, so a field read from a column the list did not select shows up as a
// null or a zero.
func narrowFixture(t *testing.T, app *testkit.App) (tenant, *db.Conversation, string) {
	t.Helper()
	ctx := context.Background()
	a := newTenant(t, app)
	conv := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	quoted := testkit.Message(t, app.DB, conv, db.DirectionSent, "the quoted one", ago(app, 2*time.Minute))
	last := testkit.Message(t, app.DB, conv, db.DirectionReceived, "yes, at 5", ago(app, time.Minute))
	if _, err := app.DB.NewRaw(`UPDATE messages SET provider_sid = 'SMquoted' WHERE id = ?`, quoted.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.NewRaw(`UPDATE messages SET error_code = '63016', reply_to_sid = 'SMquoted', status = 'READ',
		location = '{"latitude": 6.9, "longitude": 79.8, "address": "Galle Road", "label": "Shop"}',
		interactive_reply = '{"text": "Yes", "payload": "yes-1"}',
		referral = '{"sourceType": "ad", "sourceId": "42", "sourceUrl": "https://example.com/ad", "headline": "Sale", "body": "50%"}',
		client_message_id = 'client-1', sent_at = now(), delivered_at = now(), read_at = now(), read_by = ?
		WHERE id = ?`, a.agent.ID, last.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.NewRaw(`INSERT INTO attachments (company_id, message_id, ord, type, filename, filesize, content_type, storage_key)
		VALUES (?, ?, 0, 'IMAGE', 'a.jpg', 10, 'image/jpeg', 'k/a.jpg')`, a.company.ID, last.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// Another conversation, newer, so the list holds more than the one compared.
	other := testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Second))
	testkit.Message(t, app.DB, other, db.DirectionReceived, "hello", ago(app, time.Second))
	return a, conv, fmt.Sprint(conv.ID)
}

// leafSelection is a selection of field f of a type: f itself for a scalar or an
// enum, f with its object's scalar fields (and their ids) otherwise.
func leafSelection(schema *ast.Schema, f *ast.FieldDefinition) string {
	def := schema.Types[f.Type.Name()]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return f.Name
	}
	var subs []string
	for _, sf := range def.Fields {
		if sd := schema.Types[sf.Type.Name()]; len(sf.Arguments) == 0 && sd != nil && (sd.Kind == ast.Scalar || sd.Kind == ast.Enum) {
			subs = append(subs, sf.Name)
		}
	}
	return f.Name + " { " + strings.Join(subs, " ") + " }"
}

// The inbox list reads only the columns of the contact and of the newest message
// that the query selects (of any User and any Message in the operation), and the
// messages page only those of its messages. For every field of both types, their
// answers must equal conversation(id)'s, which reads whole rows.
func TestConversationList_NarrowColumnsAnswerAsWholeRows(t *testing.T) {
	app := testkit.NewApp(t)
	a, conv, id := narrowFixture(t, app)
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	nullable := map[string]bool{ // null for a contact, or where the fixture has none
		"User.email": true, "User.role": true, "User.company": true, "Message.template": true,
	}
	for _, typ := range []struct{ name, field string }{{"User", "contact"}, {"Message", "lastMessage"}} {
		for _, f := range schema.Types[typ.name].Fields {
			if len(f.Arguments) > 0 || strings.HasPrefix(f.Name, "__") {
				continue
			}
			sel := typ.field + " { id " + leafSelection(schema, f) + " }"
			t.Run(typ.name+"."+f.Name, func(t *testing.T) {
				var list struct {
					Conversations struct {
						Edges []struct{ Node map[string]json.RawMessage }
					}
				}
				gql(t, app, a.token, `{ conversations(first: 10) { edges { node { id `+sel+` } } } }`, nil, &list)
				var one struct{ Conversation map[string]json.RawMessage }
				gql(t, app, a.token, `query($id: ID!) { conversation(id: $id) { id `+sel+` } }`, map[string]any{"id": id}, &one)
				want := one.Conversation[typ.field]
				var got json.RawMessage
				for _, e := range list.Conversations.Edges {
					if string(e.Node["id"]) == `"`+id+`"` {
						got = e.Node[typ.field]
					}
				}
				if got == nil {
					t.Fatalf("conversation %d is not in the list", conv.ID)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("list %s\nwhole row %s", got, want)
				}
				if typ.name == "Message" {
					// The messages page, narrowed the same way: its newest message.
					var page struct {
						Messages struct {
							Edges []struct{ Node json.RawMessage }
						}
					}
					gql(t, app, a.token, `query($id: ID!) { messages(conversationId: $id, first: 1) { edges { node { id `+
						leafSelection(schema, f)+` } } } }`, map[string]any{"id": id}, &page)
					if len(page.Messages.Edges) != 1 {
						t.Fatalf("messages page of %d, want 1", len(page.Messages.Edges))
					}
					if got := page.Messages.Edges[0].Node; !bytes.Equal(got, want) {
						t.Fatalf("messages page %s\nwhole row %s", got, want)
					}
				}
				var v map[string]json.RawMessage
				if err := json.Unmarshal(want, &v); err != nil {
					t.Fatal(err)
				}
				if s := string(v[f.Name]); !nullable[typ.name+"."+f.Name] && (s == "null" || s == "" || s == "[]") {
					t.Fatalf("the fixture has no %s.%s (%s): the comparison proves nothing", typ.name, f.Name, want)
				}
			})
		}
	}
}

// Narrowing shows: the bench's inbox query reads the nine columns it shows, not
// the newest message's JSON columns; a query that reaches the contact another way
// too (a message's sender, the conversation through its message) gets every field
// it asks on each path; and the request's loaders, which other fields read (a
// canned response's placeholders), never hold a narrowed row.
func TestConversationList_NarrowColumnsAcrossPaths(t *testing.T) {
	app := testkit.NewApp(t)
	a, conv, id := narrowFixture(t, app)
	rec := &testkit.Statements{}
	db.AddStatementHook(app.DB, rec)
	rec.Take()
	gql(t, app, a.token, `{ conversations(first: 20) { edges { node { id contact { id firstName }
		lastMessage { id content } unreadCount } } } }`, nil, nil)
	var summary string
	for _, st := range rec.Take() {
		if strings.Contains(st.Query, "AS m_") {
			summary = st.Query
		}
	}
	if summary == "" || strings.Contains(summary, "referral") || strings.Contains(summary, `u."phone"`) || !strings.Contains(summary, `m."content"`) {
		t.Fatalf("the inbox statement does not read just the asked columns:\n%s", summary)
	}

	var out struct {
		Conversations struct {
			Edges []struct {
				Node struct {
					ID          string
					Contact     struct{ ID, FirstName string }
					LastMessage struct {
						Sender       struct{ Phone, LastName string }
						Conversation struct {
							Contact struct{ Phone string }
						}
					}
				}
			}
		}
		RenderCannedResponse string
	}
	canned := &db.CannedResponse{CompanyID: a.company.ID, ShortCode: "hi", Content: "Hi {{contact.firstName}} {{contact.lastName}} ({{contact.phone}})"}
	if _, err := app.DB.NewInsert().Model(canned).Returning("*").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	gql(t, app, a.token, `query($canned: ID!, $conv: ID!) { conversations(first: 20) { edges { node { id contact { id firstName }
		lastMessage { sender { phone lastName } conversation { contact { phone } } } } } }
		renderCannedResponse(id: $canned, conversationId: $conv) }`,
		map[string]any{"canned": fmt.Sprint(canned.ID), "conv": id}, &out)
	u := conv.User
	found := false
	for _, e := range out.Conversations.Edges {
		if e.Node.ID != id {
			continue
		}
		found = true
		n := e.Node
		if n.Contact.FirstName != u.FirstName || n.LastMessage.Sender.Phone != *u.Phone || n.LastMessage.Sender.LastName != u.LastName ||
			n.LastMessage.Conversation.Contact.Phone != *u.Phone {
			t.Fatalf("paths to the contact disagree: %+v, contact %+v", n, u)
		}
	}
	if want := fmt.Sprintf("Hi %s %s (%s)", u.FirstName, u.LastName, *u.Phone); !found || out.RenderCannedResponse != want {
		t.Fatalf("found %v; canned response %q, want %q", found, out.RenderCannedResponse, want)
	}
}
