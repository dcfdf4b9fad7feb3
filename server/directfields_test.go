package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"

	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/server"
)

// fieldCounter is a field interceptor: the kind of extension the executor's direct
// fields would skip (cmd/gqlgen/direct.go).
type fieldCounter struct{}

func (fieldCounter) ExtensionName() string                   { return "fieldCounter" }
func (fieldCounter) Validate(graphql.ExecutableSchema) error { return nil }
func (fieldCounter) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	return next(ctx)
}

func TestUse_RefusesAFieldInterceptor(t *testing.T) {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{}))
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "fieldCounter intercepts fields") {
			t.Fatalf("use registered a field interceptor (recovered %v)", r)
		}
	}()
	server.Use(srv, fieldCounter{})
}

// Every extension of the GraphQL handler goes through use, and none is added as a
// function with AroundFields.
func TestNoFieldMiddlewareBesideUse(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		if strings.Contains(text, "AroundFields(") {
			t.Errorf("%s adds a field middleware with AroundFields, which direct fields skip", f)
		}
		want := 0
		if strings.Contains(text, "func use(") {
			want = 1
		}
		if n := strings.Count(text, "srv.Use("); n != want {
			t.Errorf("%s calls srv.Use %d times: register extensions with use", f, n)
		}
	}
}
