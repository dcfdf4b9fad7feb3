package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

const noProfile = `{"statusCode":403,"message":"Access forbidden to unconnected profiles","error":"Forbidden"}`

func TestProfile_OfAContactOfTheCompanyOrOfTheCaller(t *testing.T) {
	w := newWorld(t)
	contact := namedContact(t, w.app, w.a.ID, "Madhawa", "Samarawickrama", "+94717936775")
	r := w.do(t, "GET", "/profile/"+itoa(contact.ID), nil)
	wantBody(t, r, http.StatusOK, fmt.Sprintf(`{"userId":%d,"firstName":"Madhawa","lastName":"Samarawickrama","phone":"+94717936775"}`, contact.ID))
	r = w.do(t, "GET", "/profile/"+itoa(w.agentA.ID), nil)
	var me legacyUser
	r.JSON(t, &me)
	if r.Status != http.StatusOK || me != (legacyUser{w.agentA.ID, w.agentA.FirstName, w.agentA.LastName, *w.agentA.Phone}) {
		t.Errorf("own profile: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "email") || strings.Contains(string(r.Body), "password") {
		t.Errorf("profile shows more than the legacy user: %s", r.Body)
	}
}

func TestProfile_AnyoneElseIsTheSame403(t *testing.T) {
	w := newWorld(t)
	for name, id := range otherUsers(t, w) {
		t.Run(name, func(t *testing.T) {
			wantBody(t, w.do(t, "GET", "/profile/"+itoa(id), nil), http.StatusForbidden, noProfile)
		})
	}
	for _, id := range []string{"abc", "0", "-1", "+1", "1.5", "99999999999999999999"} {
		wantError(t, w.do(t, "GET", "/profile/"+id, nil), http.StatusBadRequest, "profileId must be a positive integer id")
	}
}

const profileUpdated = `{"status":true,"message":"Profile Update sucessfully"}`

func profileBody(id any) map[string]any {
	return map[string]any{"userId": id, "firstName": "Nimal", "lastName": "Silva", "phone": "+94 77 123 4500"}
}

func TestUpdateProfile_OfAContactOrTheCaller(t *testing.T) {
	w := newWorld(t)
	contact := namedContact(t, w.app, w.a.ID, "Old", "Name", "+94717936775")
	wantBody(t, w.do(t, "PUT", "/profile", profileBody(contact.ID)), http.StatusOK, profileUpdated)
	var u db.User
	_ = w.app.DB.NewSelect().Model(&u).Where("id = ?", contact.ID).Scan(context.Background())
	if u.FirstName != "Nimal" || u.LastName != "Silva" || *u.Phone != "+94771234500" {
		t.Errorf("stored contact: %+v", u)
	}
	// userId as a string of digits; the caller's own profile.
	body := profileBody(fmt.Sprint(w.agentA.ID))
	body["phone"] = "+94770000999"
	wantBody(t, w.do(t, "PUT", "/profile", body), http.StatusOK, profileUpdated)
	_ = w.app.DB.NewSelect().Model(&u).Where("id = ?", w.agentA.ID).Scan(context.Background())
	if u.FirstName != "Nimal" || *u.Phone != "+94770000999" || *u.Email != *w.agentA.Email {
		t.Errorf("stored agent: %+v", u)
	}
}

func TestUpdateProfile_AnyoneElseIsTheSame403AndNothingChanges(t *testing.T) {
	w := newWorld(t)
	for name, id := range otherUsers(t, w) {
		t.Run(name, func(t *testing.T) {
			wantBody(t, w.do(t, "PUT", "/profile", profileBody(id)), http.StatusForbidden, noProfile)
		})
	}
	var n int
	_ = w.app.DB.NewRaw("SELECT count(*) FROM users WHERE first_name = 'Nimal'").Scan(context.Background(), &n)
	if n != 0 {
		t.Errorf("%d users were changed by refused updates", n)
	}
}

func TestUpdateProfile_BadInputIs400(t *testing.T) {
	w := newWorld(t)
	contact := namedContact(t, w.app, w.a.ID, "Keep", "Me", "+94717936775")
	namedContact(t, w.app, w.a.ID, "Other", "One", "+94717936776")
	with := func(k string, v any) map[string]any {
		b := profileBody(contact.ID)
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"userId abc", with("userId", "abc"), "userId must be a positive integer id"},
		{"userId missing", with("userId", nil), "userId should not be empty"},
		{"userId negative", with("userId", -1), "userId must be a positive integer id"},
		{"firstName missing", with("firstName", nil), "firstName should not be empty"},
		{"lastName blank", with("lastName", " "), "lastName should not be empty"},
		{"phone missing", with("phone", nil), "phone should not be empty"},
		{"phone a number", with("phone", 94717936775), "phone must be a string"},
		{"national phone", with("phone", "0717936775"), "phone must be a phone number in international format"},
		{"firstName too long", with("firstName", strings.Repeat("n", 201)), "firstName must be shorter than or equal to 200 characters"},
	}
	before := rowCounts(t, w.app)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "PUT", "/profile", c.body), http.StatusBadRequest, c.want)
		})
	}
	wantError(t, w.do(t, "PUT", "/profile", with("phone", "+94717936776")), http.StatusConflict, "")
	nothingStored(t, w.app, before)
	var u db.User
	_ = w.app.DB.NewSelect().Model(&u).Where("id = ?", contact.ID).Scan(context.Background())
	if u.FirstName != "Keep" || *u.Phone != "+94717936775" {
		t.Errorf("refused updates changed the contact: %+v", u)
	}
}

// otherUsers are the users whose profile the caller must not see or change, by
// what they are to the caller.
func otherUsers(t *testing.T, w *world) map[string]int64 {
	colleague := testkit.Agent(t, w.app.DB, w.a.ID)
	foreign := namedContact(t, w.app, w.b.ID, "Their", "Contact", "+94717936775")
	return map[string]int64{
		"another agent of the company": colleague.ID,
		"another company's contact":    foreign.ID,
		"another company's agent":      w.agentB.ID,
		"unknown":                      foreign.ID + 1000,
	}
}
