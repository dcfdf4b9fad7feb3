package resolvers_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

var (
	looksLikeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)
	timeFormat    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkTimes walks a GraphQL answer: every timestamp in it must have exactly three
// fractional digits and Z. It returns how many it saw.
func checkTimes(t *testing.T, path string, v any) int {
	t.Helper()
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			n += checkTimes(t, path+"."+k, e)
		}
	case []any:
		for i, e := range v {
			n += checkTimes(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	case string:
		if looksLikeTime.MatchString(v) {
			n++
			if !timeFormat.MatchString(v) {
				t.Errorf("%s = %q: a Time must have exactly three fractional digits and Z", path, v)
			}
		}
	}
	return n
}

// TestTime_EveryValueHasThreeFractionalDigits: the Time values of the answers
// (sessions, windows, conversations, messages, invitations), whatever their
// sub-millisecond part, have exactly three fractional digits; and every Time the
// schema has is written by scalar.MarshalTime (gqlgen.yml binds Time to it).
func TestTime_EveryValueHasThreeFractionalDigits(t *testing.T) {
	gen, err := os.ReadFile("../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(gen), "graphql.MarshalTime(") || !strings.Contains(string(gen), "scalar.MarshalTime(") {
		t.Error("graph/generated.go writes Time without scalar.MarshalTime: bind Time to scalar.Time in gqlgen.yml")
	}
	app := testkit.NewApp(t)
	tm := newTeam(t, app)
	// Times on a whole second, on a round 120 ms and with microseconds.
	for i, at := range []time.Time{
		app.Clock.Now().Add(-2 * time.Hour).Truncate(time.Second),
		app.Clock.Now().Add(-time.Hour).Truncate(time.Second).Add(120 * time.Millisecond),
		app.Clock.Now().Add(-30 * time.Minute).Truncate(time.Second).Add(123456 * time.Microsecond),
	} {
		conv := testkit.Conversation(t, app.DB, tm.company.ID, at)
		testkit.Message(t, app.DB, conv, db.DirectionReceived, fmt.Sprint("hello ", i), at)
	}
	invite(t, app, tm.ownerTok, "times@example.com", "AGENT")
	answers := []struct {
		token, query string
		vars         map[string]any
	}{
		{"", loginMutation, map[string]any{"e": *tm.agent.Email, "p": testkit.Password}},
		{tm.ownerTok, `{ conversations { edges { node { lastUpdateTime lastFreeMessageTime createdAt
			chatWindow { lastFreeMessageTime expiresAt }
			messages { edges { node { datetime } } } } } } }`, nil},
		{tm.ownerTok, `{ invitations { expiresAt } }`, nil},
	}
	seen := 0
	for _, a := range answers {
		res := app.GraphQL(a.token, a.query, a.vars)
		if len(res.Errors) > 0 {
			t.Fatalf("%s: %+v", a.query, res.Errors)
		}
		var data any
		if err := json.Unmarshal(res.Data, &data); err != nil {
			t.Fatal(err)
		}
		seen += checkTimes(t, "data", data)
	}
	// 1 session + 3 × (3 conversation times + 2 window times + 1 message) + 1 invitation.
	if seen != 20 {
		t.Errorf("saw %d times, want 20", seen)
	}
}
