package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

type legacyUser struct {
	UserID    int64  `json:"userId"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Phone     string `json:"phone"`
}

// namedContact adds a contact of a company with a given name and phone.
func namedContact(t testing.TB, app *testkit.App, companyID int64, first, last, phone string) *db.User {
	t.Helper()
	u := &db.User{CompanyID: companyID, Kind: db.KindContact, FirstName: first, LastName: last, Phone: &phone}
	if _, err := app.DB.NewInsert().Model(u).Returning("*").Exec(context.Background()); err != nil {
		t.Fatalf("contact: %v", err)
	}
	return u
}

func names(us []legacyUser) string {
	var out []string
	for _, u := range us {
		out = append(out, u.FirstName+" "+u.LastName)
	}
	return strings.Join(out, ", ")
}

func TestContacts_AreTheCompanysContactsByName(t *testing.T) {
	w := newWorld(t)
	namedContact(t, w.app, w.a.ID, "Carol", "Jones", "+94710000003")
	bob := namedContact(t, w.app, w.a.ID, "Bob", "Young", "+94710000002")
	namedContact(t, w.app, w.a.ID, "Bob", "Adams", "+94710000001")
	namedContact(t, w.app, w.a.ID, "Alice", "Zed", "+94710000004")
	namedContact(t, w.app, w.b.ID, "Aaron", "Other", "+94710000005") // another company's

	r := w.do(t, "GET", "/contact", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var us []legacyUser
	r.JSON(t, &us)
	if got := names(us); got != "Alice Zed, Bob Adams, Bob Young, Carol Jones" {
		t.Errorf("contacts: %s", got)
	}
	if us[2] != (legacyUser{bob.ID, "Bob", "Young", "+94710000002"}) {
		t.Errorf("contact shape: %+v", us[2])
	}
	// Agents are not contacts.
	for _, u := range us {
		if u.UserID == w.agentA.ID {
			t.Error("the agent is listed as a contact")
		}
	}
	// Paged.
	w.do(t, "GET", "/contact?page=2&limit=3", nil).JSON(t, &us)
	if got := names(us); got != "Carol Jones" {
		t.Errorf("page 2 of 3: %s", got)
	}
	w.do(t, "GET", "/contact?limit=2", nil).JSON(t, &us)
	if got := names(us); got != "Alice Zed, Bob Adams" {
		t.Errorf("limit only: %s", got)
	}
	// B sees only its own.
	call(t, w.app, "GET", "/contact", w.tokB, nil).JSON(t, &us)
	if got := names(us); got != "Aaron Other" {
		t.Errorf("B's contacts: %s", got)
	}
	// No contacts: an empty list.
	c := testkit.Company(t, w.app.DB)
	r = call(t, w.app, "GET", "/contact", w.app.Token(testkit.Agent(t, w.app.DB, c.ID)), nil)
	wantBody(t, r, http.StatusOK, `[]`)
}

func TestUpdateContact_ChangesTheGivenFieldsAndAnswersTheContact(t *testing.T) {
	w := newWorld(t)
	c := namedContact(t, w.app, w.a.ID, "Old", "Name", "+94710000001")
	r := w.do(t, "PUT", "/contact", map[string]any{"userId": c.ID, "firstName": " New "})
	var u legacyUser
	r.JSON(t, &u)
	if r.Status != http.StatusOK || u != (legacyUser{c.ID, "New", "Name", "+94710000001"}) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// userId as a string of digits; the phone is normalised.
	r = w.do(t, "PUT", "/contact", map[string]any{"userId": fmt.Sprint(c.ID), "lastName": "Surname", "phone": "+94 71-000 0009"})
	r.JSON(t, &u)
	if r.Status != http.StatusOK || u != (legacyUser{c.ID, "New", "Surname", "+94710000009"}) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var stored db.User
	if err := w.app.DB.NewSelect().Model(&stored).Where("id = ?", c.ID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored.FirstName != "New" || stored.LastName != "Surname" || *stored.Phone != "+94710000009" {
		t.Errorf("stored %+v", stored)
	}
}

func TestUpdateContact_AnotherCompanysContactLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	foreign := namedContact(t, w.app, w.b.ID, "Theirs", "Contact", "+94710000001")
	before := rowCounts(t, w.app)
	for name, id := range map[string]int64{"B's contact": foreign.ID, "unknown": foreign.ID + 1000, "A's agent": w.agentA.ID, "B's agent": w.agentB.ID} {
		r := w.do(t, "PUT", "/contact", map[string]any{"userId": id, "firstName": "Hacked"})
		if strings.TrimSpace(string(r.Body)) != noContact {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	var first string
	_ = w.app.DB.NewRaw("SELECT first_name FROM users WHERE id = ?", foreign.ID).Scan(context.Background(), &first)
	if first != "Theirs" {
		t.Errorf("B's contact renamed to %q", first)
	}
	nothingStored(t, w.app, before)
}

func TestUpdateContact_BadInputIs400AndATakenPhone409(t *testing.T) {
	w := newWorld(t)
	c := namedContact(t, w.app, w.a.ID, "Keep", "Me", "+94710000001")
	namedContact(t, w.app, w.a.ID, "Other", "One", "+94710000002")
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"missing userId", map[string]any{"firstName": "X"}, "userId should not be empty"},
		{"userId abc", map[string]any{"userId": "abc", "firstName": "X"}, "userId must be a positive integer id"},
		{"userId zero", map[string]any{"userId": 0}, "userId must be a positive integer id"},
		{"userId fractional", map[string]any{"userId": 1.5}, "userId must be a positive integer id"},
		{"userId with sign", map[string]any{"userId": "+1"}, "userId must be a positive integer id"},
		{"userId array", map[string]any{"userId": []int{1}}, "userId must be a positive integer id"},
		{"firstName a number", map[string]any{"userId": c.ID, "firstName": 5}, "firstName must be a string"},
		{"firstName too long", map[string]any{"userId": c.ID, "firstName": strings.Repeat("a", 201)}, "firstName must be shorter than or equal to 200 characters"},
		{"national phone", map[string]any{"userId": c.ID, "phone": "0710000001"}, "phone must be a phone number in international format"},
	}
	before := rowCounts(t, w.app)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, w.do(t, "PUT", "/contact", tc.body), http.StatusBadRequest, tc.want)
		})
	}
	wantError(t, w.do(t, "PUT", "/contact", map[string]any{"userId": c.ID, "phone": "+94710000002"}), http.StatusConflict,
		"another contact of the company has this phone number")
	nothingStored(t, w.app, before)
	var stored db.User
	_ = w.app.DB.NewSelect().Model(&stored).Where("id = ?", c.ID).Scan(context.Background())
	if stored.FirstName != "Keep" || *stored.Phone != "+94710000001" {
		t.Errorf("refused updates changed the contact: %+v", stored)
	}
}

func TestContactSearch_MatchesDigitsIgnoringPlusSpacesAndDashes(t *testing.T) {
	w := newWorld(t)
	namedContact(t, w.app, w.a.ID, "Sri", "Lanka", "+94711234567")
	namedContact(t, w.app, w.a.ID, "Also", "Match", "+94771234567")
	namedContact(t, w.app, w.a.ID, "United", "States", "+14155550123")
	namedContact(t, w.app, w.b.ID, "Their", "Lanka", "+94711234567")
	for q, want := range map[string]string{
		"+94711234567":       "Sri Lanka",
		"+94 71-123 4567":    "Sri Lanka",
		"71-123":             "Sri Lanka",
		"1234567":            "Also Match, Sri Lanka",
		"+1 415":             "United States",
		"- 9 4 7 1 1 - 2 3 ": "Sri Lanka",
		"999":                "",
	} {
		var us []legacyUser
		r := w.do(t, "GET", "/contact/search/"+url.PathEscape(q), nil)
		r.JSON(t, &us)
		if r.Status != http.StatusOK || names(us) != want {
			t.Errorf("%q: %d %s", q, r.Status, r.Body)
		}
	}
	for name, c := range map[string]struct{ q, want string }{
		"letters":      {"abc", "phone must contain only digits, +, spaces and dashes"},
		"mixed":        {"9471x", "phone must contain only digits, +, spaces and dashes"},
		"blank":        {"%20", "phone should not be empty"},
		"no digits":    {"+-", "phone should not be empty"},
		"21 digits":    {strings.Repeat("1", 21), "phone must be shorter than or equal to 20 digits"},
		"over 200":     {strings.Repeat("1", 201), "phone must be shorter than or equal to 20 digits"},
		"percent sign": {"%2594", "phone must contain only digits, +, spaces and dashes"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, w.do(t, "GET", "/contact/search/"+c.q, nil), http.StatusBadRequest, c.want)
		})
	}
}
