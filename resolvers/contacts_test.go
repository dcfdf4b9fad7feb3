package resolvers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

func TestContacts_ListSearchAndTenancy(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	var mine []string
	for i := 0; i < 3; i++ {
		mine = append(mine, fmt.Sprint(testkit.Contact(t, app.DB, a.company.ID).ID))
	}
	theirs := testkit.Contact(t, app.DB, b.company.ID)
	q := `query($first: Int, $after: String, $search: String) { contacts(first: $first, after: $after, search: $search) {
	  totalCount pageInfo { hasNextPage endCursor } edges { node { id firstName lastName phone } } } }`
	type out struct {
		Contacts struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct{ Node struct{ ID, Phone string } }
		}
	}
	var o out
	gql(t, app, a.token, q, map[string]any{"first": 2}, &o)
	if o.Contacts.TotalCount != 3 || len(o.Contacts.Edges) != 2 || !o.Contacts.PageInfo.HasNextPage {
		t.Fatalf("page 1: %+v", o.Contacts)
	}
	got := []string{o.Contacts.Edges[0].Node.ID, o.Contacts.Edges[1].Node.ID}
	gql(t, app, a.token, q, map[string]any{"first": 2, "after": o.Contacts.PageInfo.EndCursor}, &o)
	got = append(got, o.Contacts.Edges[0].Node.ID)
	if fmt.Sprint(got) != fmt.Sprint(mine) || o.Contacts.PageInfo.HasNextPage {
		t.Errorf("paged %v, want %v by name", got, mine)
	}
	gql(t, app, a.token, q, map[string]any{"search": (*theirs.Phone)[1:]}, &o)
	if o.Contacts.TotalCount != 0 {
		t.Errorf("found another company's contact: %+v", o.Contacts)
	}
	one := `query($id: ID!) { contact(id: $id) { id phone } }`
	gql(t, app, a.token, one, map[string]any{"id": mine[0]}, nil)
	wantCode(t, app, a.token, one, map[string]any{"id": fmt.Sprint(theirs.ID)}, "FORBIDDEN")
	wantCode(t, app, a.token, one, map[string]any{"id": fmt.Sprint(a.agent.ID)}, "FORBIDDEN")
	wantCode(t, app, a.token, q, map[string]any{"first": 500}, "BAD_USER_INPUT")
}

func TestUpdateContact_ChangesFieldsAndRemembersEditedName(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	c := testkit.Contact(t, app.DB, a.company.ID)
	other := testkit.Contact(t, app.DB, a.company.ID)
	theirs := testkit.Contact(t, app.DB, b.company.ID)
	q := `mutation($in: UpdateContactInput!) { updateContact(input: $in) { contact { id firstName lastName phone } } }`
	var o struct {
		UpdateContact struct {
			Contact struct{ FirstName, LastName, Phone string }
		}
	}
	gql(t, app, a.token, q, map[string]any{"in": map[string]any{"id": fmt.Sprint(c.ID), "firstName": "Kamal"}}, &o)
	if o.UpdateContact.Contact.FirstName != "Kamal" || o.UpdateContact.Contact.LastName != c.LastName || o.UpdateContact.Contact.Phone != *c.Phone {
		t.Errorf("partial update: %+v", o.UpdateContact.Contact)
	}
	var edited bool
	_ = app.DB.NewRaw("SELECT name_edited FROM users WHERE id = ?", c.ID).Scan(t.Context(), &edited)
	if !edited {
		t.Error("an agent's name edit is not remembered")
	}
	wantCode(t, app, a.token, q, map[string]any{"in": map[string]any{"id": fmt.Sprint(c.ID), "phone": *other.Phone}}, "CONFLICT")
	wantCode(t, app, a.token, q, map[string]any{"in": map[string]any{"id": fmt.Sprint(c.ID), "phone": "12345"}}, "BAD_USER_INPUT")
	wantCode(t, app, a.token, q, map[string]any{"in": map[string]any{"id": fmt.Sprint(theirs.ID), "firstName": "X"}}, "FORBIDDEN")
	var name string
	_ = app.DB.NewRaw("SELECT first_name FROM users WHERE id = ?", theirs.ID).Scan(t.Context(), &name)
	if name == "X" {
		t.Error("changed another company's contact")
	}
}

func TestUpdateProfile_SelfOrContactOnly(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	colleague := testkit.Agent(t, app.DB, a.company.ID)
	q := `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { user { id firstName } } }`
	var o struct {
		UpdateProfile struct {
			User struct{ ID, FirstName string }
		}
	}
	gql(t, app, a.token, q, map[string]any{"in": map[string]any{"firstName": "Me"}}, &o)
	if o.UpdateProfile.User.ID != fmt.Sprint(a.agent.ID) || o.UpdateProfile.User.FirstName != "Me" {
		t.Errorf("self: %+v", o)
	}
	wantCode(t, app, a.token, q, map[string]any{"in": map[string]any{"userId": fmt.Sprint(colleague.ID), "firstName": "X"}}, "FORBIDDEN")
	wantCode(t, app, a.token, q, map[string]any{"in": map[string]any{"userId": fmt.Sprint(b.agent.ID), "firstName": "X"}}, "FORBIDDEN")
}

func TestTemplates_SharedAndOwnOnly(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	if _, err := app.DB.NewRaw("INSERT INTO templates (company_id, name, content) VALUES (?, 'b', 'only {{1}} {{2}}')", b.company.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	var o struct {
		Templates []struct {
			ID             string
			Shared         bool
			ParameterCount int
			Content        string
		}
	}
	gql(t, app, a.token, `{ templates { id shared parameterCount content } }`, nil, &o)
	if len(o.Templates) != 2 || o.Templates[0].ID != "1" || !o.Templates[0].Shared || o.Templates[1].ParameterCount != 4 {
		t.Errorf("company A templates: %+v", o.Templates)
	}
	gql(t, app, b.token, `{ templates { id shared parameterCount } }`, nil, &o)
	if len(o.Templates) != 3 || o.Templates[2].Shared || o.Templates[2].ParameterCount != 2 {
		t.Errorf("company B templates: %+v", o.Templates)
	}
}

func TestProtection_DepthAndComplexityLimits(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	testkit.Conversation(t, app.DB, a.company.ID, ago(app, time.Hour))
	deep := `{ conversations { edges { node { lastMessage { conversation { lastMessage { conversation { lastMessage {
	  conversation { lastMessage { conversation { lastMessage { id } } } } } } } } } } } } }`
	wantCode(t, app, a.token, deep, nil, "BAD_USER_INPUT")
	costly := `{ conversations(first: 100) { edges { node { messages(first: 100) { edges { node { attachments { id } sender { id } } } } } } } }`
	res := app.GraphQL(a.token, costly, nil)
	if len(res.Errors) == 0 {
		t.Error("a 100x100 query passed the complexity limit")
	} else if code, _ := res.Errors[0].Extensions["code"].(string); code != "COMPLEXITY_LIMIT_EXCEEDED" ||
		!strings.Contains(res.Errors[0].Message, "exceeds the limit of 5000") {
		t.Errorf("over the complexity limit: %+v", res.Errors[0])
	}
}
