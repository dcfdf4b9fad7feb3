package resolvers_test

import (
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// The search that narrows the contact and conversation lists is trimmed and bounded
// the same way in both.
func TestListSearch_BoundedAndTrimmedInBothLists(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	lists := map[string]string{
		"contacts":      `query($s: String) { contacts(search: $s) { totalCount } }`,
		"conversations": `query($s: String) { conversations(filter: {search: $s}) { totalCount } }`,
	}
	tests := []struct {
		name, search, code string
	}{
		{"200 letters", strings.Repeat("a", 200), ""},
		{"201 letters", strings.Repeat("a", 201), "BAD_USER_INPUT"},
		{"200 letters padded", "  " + strings.Repeat("a", 200) + "  ", ""},
	}
	for list, q := range lists {
		for _, tc := range tests {
			t.Run(list+"/"+tc.name, func(t *testing.T) {
				if tc.code != "" {
					wantCode(t, app, a.token, q, map[string]any{"s": tc.search}, tc.code)
					return
				}
				var o map[string]struct{ TotalCount int }
				gql(t, app, a.token, q, map[string]any{"s": tc.search}, &o)
				if o[list].TotalCount != 0 {
					t.Fatalf("%s: %d rows match %q", list, o[list].TotalCount, tc.search)
				}
			})
		}
	}
}
