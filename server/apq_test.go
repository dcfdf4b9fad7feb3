package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

func TestGraphQL_AutomaticPersistedQueries(t *testing.T) {
	app := testkit.NewApp(t)
	q := `{ apiInfo { name } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	// Hash alone, unknown yet: the client must send the query once.
	r := app.Do("POST", "/graphql", "", map[string]any{"extensions": ext})
	if !strings.Contains(string(r.Body), "PersistedQueryNotFound") {
		t.Fatalf("unknown hash: %s", r.Body)
	}
	r = app.Do("POST", "/graphql", "", map[string]any{"query": q, "extensions": ext})
	if !strings.Contains(string(r.Body), "CONNECTME API") {
		t.Fatalf("query with hash: %s", r.Body)
	}
	r = app.Do("POST", "/graphql", "", map[string]any{"extensions": ext})
	if !strings.Contains(string(r.Body), "CONNECTME API") {
		t.Fatalf("hash alone after registering: %s", r.Body)
	}
	// A hash that does not match its query is refused.
	bad := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}
	r = app.Do("POST", "/graphql", "", map[string]any{"query": q, "extensions": bad})
	if strings.Contains(string(r.Body), "CONNECTME API") {
		t.Fatalf("mismatched hash accepted: %s", r.Body)
	}
}
