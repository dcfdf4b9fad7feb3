package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// TestJSONBodies_InvalidUTF8AndDuplicateMembersAre400: bytes a form would refuse are
// refused in JSON too, at any depth, instead of being stored as U+FFFD or decided
// by whichever duplicate came last.
func TestJSONBodies_InvalidUTF8AndDuplicateMembersAre400(t *testing.T) {
	app := testkit.NewApp(t)
	// signup is a body that is accepted (200) when nothing is wrong with it; %s is
	// where each case puts its first name and any extra members.
	signup := func(n int, first, extra string) string {
		return fmt.Sprintf(`{"firstName":"%s","lastName":"B","phone":"+9471793%04d","email":"strict%d@example.com","password":"secret-password","companyName":"Strict %d"%s}`,
			first, n, n, n, extra)
	}
	cases := []struct {
		name, body string
		want       int
		message    string
	}{
		{"plain", signup(1, "Ann", ""), 200, ""},
		{"surrogate pair", signup(2, `\ud83d\ude00`, ""), 200, ""},
		{"same member name in sibling objects", signup(3, "Ann", `,"x":{"k":1},"y":[{"k":1},{"k":2}]`), 200, ""},
		{"invalid byte", signup(4, "A\xffnn", ""), 400, "UTF-8"},
		{"invalid byte deep", signup(5, "Ann", ",\"x\":[{\"y\":\"\xe2\x82\"}]"), 400, "UTF-8"},
		{"lone surrogate escape", signup(6, `\ud800`, ""), 400, "UTF-8"},
		{"duplicate member", signup(7, "Ann", `,"email":"other@example.com"`), 400, `"email"`},
		{"duplicate member spelt with an escape", signup(8, "Ann", `,"f\u0069rstName":"Bob"`), 400, `"firstName"`},
		{"duplicate nested member", signup(9, "Ann", `,"x":{"y":{"k":1,"k":2}}`), 400, `"k"`},
		{"duplicate in an array's object", signup(10, "Ann", `,"x":[1,[{"k":1,"k":2}]]`), 400, `"k"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := app.Do("POST", "/auth/signup", "", tc.body)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want != 400 {
				return
			}
			m := r.Map(t)
			msgs, _ := m["message"].([]any)
			if m["statusCode"] != float64(400) || m["error"] != "Bad Request" || len(msgs) != 1 ||
				!strings.Contains(fmt.Sprint(msgs[0]), tc.message) {
				t.Errorf("error shape: %s", r.Body)
			}
		})
	}
	var n int
	if err := app.DB.NewRaw(`SELECT count(*) FROM users WHERE first_name LIKE '%' || chr(65533) || '%'`).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d names stored with U+FFFD", n)
	}

	// Every JSON body is checked, also the webhooks' and those of agents' requests.
	tok := app.Token(testkit.Agent(t, app.DB, testkit.Company(t, app.DB).ID))
	for _, c := range []struct{ path, token, body string }{
		{"/message/messagein", "", `{"MessageSid":"SM1","MessageSid":"SM2","From":"whatsapp:+94717936775","To":"whatsapp:+14155238886","Body":"hi"}`},
		{"/auth/login", "", "{\"email\":\"a@example.com\",\"password\":\"\xc3\"}"},
		{"/message/new-chat", tok, `{"phone":"+94717936775","phone":"+94717936776"}`},
	} {
		r := app.Do("POST", c.path, c.token, c.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.path, r.Status, r.Body)
		}
	}
}
