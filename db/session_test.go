package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The server's connections start with SessionDefaults; a DSN's own value wins, and
// an empty one sends nothing (the server's default, on).
func TestOpen_SessionDefaults(t *testing.T) {
	url := testkit.NewDatabase(t)
	for _, tc := range []struct{ suffix, want string }{
		{"", "off"},
		{"&enable_memoize=on", "on"},
		{"&enable_memoize=", "on"},
	} {
		dsn := url
		if tc.suffix != "" {
			if !strings.Contains(dsn, "?") {
				dsn += "?"
			}
			dsn += tc.suffix
		}
		bdb, err := db.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = bdb.NewRaw("SELECT current_setting('enable_memoize')").Scan(context.Background(), &got)
		bdb.Close()
		if err != nil {
			t.Fatalf("%q: %v", tc.suffix, err)
		}
		if got != tc.want {
			t.Errorf("DSN ending %q: enable_memoize %s, want %s", tc.suffix, got, tc.want)
		}
	}
}
