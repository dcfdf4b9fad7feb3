package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

func marshalList(ctx context.Context, v []int) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return graphql.MarshalInt(v[i])
	})
	return ret
}

func other() graphql.Marshaler { return graphql.MarshalString("x") }
`

func TestInlineLists(t *testing.T) {
	file := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(file, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := inlineLists(file, nil)
	if n := done.lists; err != nil || n != 1 {
		t.Fatalf("replaced %d calls (%v), want 1", n, err)
	}
	out, _ := os.ReadFile(file)
	got := string(out)
	for _, want := range []string{`"github.com/connectme/connectme/gqlexec"`, "gqlexec.MarshalSlice(ctx, len(v), 0, false, func", `graphql.MarshalString("x")`} {
		if !strings.Contains(got, want) {
			t.Errorf("the rewritten file lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "MarshalSliceConcurrently") {
		t.Errorf("a call is left:\n%s", got)
	}
	// A file without the call is left alone and reported as such.
	if done, err := inlineLists(file, nil); done.lists != 0 || err != nil {
		t.Errorf("a second pass replaced %d (%v)", done.lists, err)
	}
}

// TestGeneratedCodeUsesMarshalSlice guards the committed executor: every list of
// objects goes through gqlexec.MarshalSlice.
func TestGeneratedCodeUsesMarshalSlice(t *testing.T) {
	src, err := os.ReadFile("../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), "graphql.MarshalSliceConcurrently(") {
		t.Fatal("graph/generated.go calls graphql.MarshalSliceConcurrently: regenerate with make generate")
	}
	if n := strings.Count(string(src), "gqlexec.MarshalSlice("); n < 10 {
		t.Fatalf("graph/generated.go calls gqlexec.MarshalSlice %d times; want every list of objects", n)
	}
}

const deferredSample = `package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

func plain(ctx context.Context, ec *executionContext) graphql.Marshaler {
	out := graphql.NewFieldSet(nil)
	deferred := graphql.NewDeferredGroup(ctx)
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}

func withDefers(ctx context.Context, ec *executionContext) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, nil, nil)
	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	out.ResolveConcurrently(ec.OperationContext, &deferred, 0, true, true, nil)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}

func withDefersNoFields(ctx context.Context, ec *executionContext) graphql.Marshaler {
	out := graphql.NewFieldSet(nil)
	deferred := graphql.NewDeferredGroup(ctx)
	out.ResolveConcurrently(ec.OperationContext, &deferred, 0, true, true, nil)
	if n := len(deferred.Defers); n > 0 {
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}

func list(ctx context.Context, v []int) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, nil)
}
`

// An object's deferred group becomes the zero group only where nothing can add a
// deferred field to it.
func TestEmptyDeferredGroups(t *testing.T) {
	file := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(file, []byte(deferredSample), 0o644); err != nil {
		t.Fatal(err)
	}
	if done, err := inlineLists(file, nil); err != nil || done.groups != 2 {
		t.Fatalf("replaced %d groups (%v), want 2", done.groups, err)
	}
	out, _ := os.ReadFile(file)
	got := string(out)
	plain, rest, _ := strings.Cut(got[strings.Index(got, "func plain"):], "func withDefers(")
	withDefers, noFields, _ := strings.Cut(rest, "func withDefersNoFields")
	if !strings.Contains(plain, "deferred := graphql.DeferredGroup{}") || strings.Contains(plain, "NewDeferredGroup") {
		t.Errorf("a group nothing adds to is still built:\n%s", plain)
	}
	if !strings.Contains(withDefers, "deferred := gqlexec.DeferredGroup(ctx, fields)") {
		t.Errorf("a group ResolveConcurrently may add to is not built on demand:\n%s", withDefers)
	}
	if !strings.Contains(noFields, "deferred := graphql.NewDeferredGroup(ctx)") {
		t.Errorf("a function without collected fields lost its group:\n%s", noFields)
	}
}

// TestGeneratedCodeSkipsEmptyDeferredGroups guards the committed executor: the
// inline objects build no deferred group.
func TestGeneratedCodeSkipsEmptyDeferredGroups(t *testing.T) {
	src, err := os.ReadFile("../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "func (ec *executionContext) _Conversation(")
	if i < 0 {
		t.Fatal("no _Conversation in graph/generated.go")
	}
	body, _, _ := strings.Cut(s[i:], "\n}\n")
	if !strings.Contains(body, "deferred := graphql.DeferredGroup{}") {
		t.Fatal("_Conversation builds a deferred group: regenerate with make generate")
	}
}
