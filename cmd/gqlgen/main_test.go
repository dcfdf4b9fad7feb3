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
	n := strings.Count(string(src), "gqlexec.MarshalSlice(")
	if n < 10 {
		t.Fatalf("graph/generated.go calls gqlexec.MarshalSlice %d times; want every list of objects", n)
	}
	if empty := strings.Count(string(src), "return gqlexec.EmptyArray"); empty != n {
		t.Fatalf("%d of %d list marshalers answer an empty list first: regenerate with make generate", empty, n)
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

const listSample = `package graph

func (ec *executionContext) marshalNT2ᚕᚖTᚄ(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {
	ret := gqlexec.MarshalSlice(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNT2ᚖT(ctx, sel, v[i])
	})

	for _, e := range ret {
		if e == graphql.Null {
			return graphql.Null
		}
	}

	return ret
}

func (ec *executionContext) marshalOT2ᚕᚖT(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	ret := gqlexec.MarshalSlice(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalOT2ᚖT(ctx, sel, v[i])
	})

	return ret
}

func (ec *executionContext) marshalXT2ᚕᚖT(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {
	ret := gqlexec.MarshalSlice(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalOT2ᚖT(ctx, sel, v[i])
	})
	note(ret)
	graphql.AddError(ctx, nil)
	return ret
}
`

// An empty list is answered before a closure and an array are built for it; a
// nullable list's nil stays null, and a marshaler of another shape (whose other
// statements might do something for no element) is left alone.
func TestEmptyLists(t *testing.T) {
	file, done, got := rewriteSample(t, listSample)
	if done.empty != 2 {
		t.Fatalf("rewrote %+v, want 2 list marshalers", done)
	}
	for _, want := range []string{
		"ᚄ(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {\n\tif len(v) == 0 {\n\t\treturn gqlexec.EmptyArray\n\t}\n\tret := gqlexec.MarshalSlice(",
		"if v == nil {\n\t\treturn graphql.Null\n\t}\n\tif len(v) == 0 {\n\t\treturn gqlexec.EmptyArray\n\t}\n\tret := gqlexec.MarshalSlice(",
		"marshalXT2ᚕᚖT(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {\n\tret := gqlexec.MarshalSlice(",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the rewritten file lacks\n%s\nin\n%s", want, got)
		}
	}
	if again, err := inlineLists(file, nil); err != nil || again.empty != 0 {
		t.Errorf("a second pass rewrote %+v (%v)", again, err)
	}
}

const collectSample = `package graph

type executionContext struct {
	*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]
}

func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, tImplementors)
	return ec.other(fields)
}

func elsewhere(oc *graphql.OperationContext, sel ast.SelectionSet) []graphql.CollectedField {
	return graphql.CollectFields(oc, sel, nil)
}
`

// Objects collect their fields through the operation's cache, a field of
// executionContext; other calls are left to gqlgen's.
func TestCollectedFields(t *testing.T) {
	file, done, got := rewriteSample(t, collectSample)
	if done.collect != 1 {
		t.Fatalf("rewrote %+v, want 1 collection", done)
	}
	for _, want := range []string{"\tcollected gqlexec.Collected\n}", "fields := ec.collected.Fields(ec.OperationContext, sel, tImplementors)",
		"return graphql.CollectFields(oc, sel, nil)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the rewritten file lacks %s:\n%s", want, got)
		}
	}
	if again, err := inlineLists(file, nil); err != nil || again.collect != 0 {
		t.Errorf("a second pass rewrote %+v (%v)", again, err)
	}
}

// rewriteSample writes src as a generated file and rewrites it once, as
// make generate does, giving the file, what was rewritten and the file after.
func rewriteSample(t *testing.T, src string) (file string, done rewrites, got string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := inlineLists(file, nil)
	if err != nil {
		t.Fatalf("rewrote %+v: %v", done, err)
	}
	out, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return file, done, string(out)
}
