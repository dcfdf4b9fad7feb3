package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/resolvers/gql"
)

// TestPanics_ReachClientsWithoutStackTraces: a panicking handler or resolver is a
// bare 500 / INTERNAL for the client; the stack goes to the log only.
func TestPanics_ReachClientsWithoutStackTraces(t *testing.T) {
	var logged bytes.Buffer
	log := logging.New(&logged, slog.LevelDebug)
	h := requestID(recoverer(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret detail at 0xdeadbeef")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/message", nil))
	body := rec.Body.String()
	if rec.Code != 500 || strings.TrimSpace(body) != `{"statusCode":500,"message":"Internal server error","error":"Internal Server Error"}` {
		t.Errorf("REST panic: %d %s", rec.Code, body)
	}
	if !strings.Contains(logged.String(), "goroutine") || !strings.Contains(logged.String(), "secret detail") {
		t.Errorf("the stack was not logged: %s", logged.String())
	}

	logged.Reset()
	r := gql.New(&resolvers.Resolver{Log: log})
	ctx := context.Background()
	gqlErr := r.PresentError(ctx, r.RecoverPanic(ctx, "secret detail at 0xdeadbeef"))
	if gqlErr.Message != "internal server error" || gqlErr.Extensions["code"] != "INTERNAL" || len(gqlErr.Extensions) != 1 {
		t.Errorf("GraphQL panic: %+v", gqlErr)
	}
	if !strings.Contains(logged.String(), "goroutine") {
		t.Errorf("the resolver's stack was not logged: %s", logged.String())
	}
}
