package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// directSample holds gqlgen's shapes of field functions and scalar marshalers:
// the rewrite must take the direct path only where it answers as the generated
// body does.
const directSample = `package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func (ec *executionContext) _T_name(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_name(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Name, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _T_note(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_note(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Note, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *string) graphql.Marshaler {
			return ec.marshalOString2ᚖstring(ctx, selections, v)
		}, true, false)
}

func (ec *executionContext) _T_guarded(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_guarded(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Guarded, nil
		},
		func(ctx context.Context, next graphql.Resolver) graphql.Resolver { return next },
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _T_owner(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_owner(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Owner, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *User) graphql.Marshaler {
			return ec.marshalOUser2ᚖUser(ctx, selections, v)
		}, true, false)
}

func (ec *executionContext) _T_undirect(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_undirect(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Undirect, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _T_author(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_author(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ec.Resolvers.T().Author(ctx, obj)
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *User) graphql.Marshaler {
			return ec.marshalOUser2ᚖUser(ctx, selections, v)
		}, true, false)
}

func (ec *executionContext) _T_node(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_node(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ec.Resolvers.T().Node(ctx, obj)
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v Node) graphql.Marshaler {
			return ec.marshalONode2Node(ctx, selections, v)
		}, true, false)
}

func (ec *executionContext) _T_withArgs(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_withArgs(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			fc := graphql.GetFieldContext(ctx)
			return ec.Resolvers.T().WithArgs(ctx, obj, fc.Args["n"].(int))
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v int) graphql.Marshaler {
			return ec.marshalNInt2int(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _T_count(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_count(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Count, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v int) graphql.Marshaler {
			return ec.marshalNInt2int(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _T_kind(ctx context.Context, field graphql.CollectedField, obj *T) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_T_kind(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Kind, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v Kind) graphql.Marshaler {
			return ec.marshalNKind2Kind(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) _V_name(ctx context.Context, field graphql.CollectedField, obj V) (ret graphql.Marshaler) {
	return graphql.ResolveField(ctx, ec.OperationContext, field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_V_name(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Name, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		}, true, true)
}

func (ec *executionContext) marshalNKind2Kind(ctx context.Context, sel ast.SelectionSet, v Kind) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(string(v))
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Kind!")
	}
	return res
}

func (ec *executionContext) marshalONode2Node(ctx context.Context, sel ast.SelectionSet, v Node) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	return ec._Node(ctx, sel, v)
}

func (ec *executionContext) marshalNInt2int(ctx context.Context, sel ast.SelectionSet, v int) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalInt(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "Int!")
	}
	return res
}

func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalOString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	_ = sel
	_ = ctx
	res := graphql.MarshalString(*v)
	return res
}

func (ec *executionContext) marshalOUser2ᚖUser(ctx context.Context, sel ast.SelectionSet, v *User) graphql.Marshaler {
	if v == nil {
		return graphql.Null
	}
	return ec._User(ctx, sel, v)
}

func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, nil)
	out := graphql.NewFieldSet(fields)
	out.Dispatch(ctx)
	if out.Invalids > 0 {
		return graphql.Null
	}
	return out
}

func notAnObject() graphql.Marshaler {
	out := graphql.Null
	return out
}
`

func TestDirectScalarsAndObjectReturns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(file, []byte(directSample), 0o644); err != nil {
		t.Fatal(err)
	}
	// _T_undirect is not named (say, reached through an embedded pointer).
	direct := map[string]bool{"_T_name": true, "_T_note": true, "_T_guarded": true, "_T_owner": true,
		"_T_count": true, "_T_kind": true, "_V_name": true}
	done, err := inlineLists(file, direct)
	if err != nil || done.direct != 7 || done.objects != 1 {
		t.Fatalf("rewrote %+v (%v), want 7 direct fields and 1 object", done, err)
	}
	out, _ := os.ReadFile(file)
	got := string(out)
	fn := func(name string) string {
		i := strings.Index(got, name+"(ctx")
		if i < 0 {
			t.Fatalf("no %s in\n%s", name, got)
		}
		body, _, _ := strings.Cut(got[i:], "\n}\n")
		return body
	}
	// A scalar with an allocation-free twin (atMarshalers) points the twin at
	// the struct field.
	if body := fn("_T_name"); !strings.Contains(body, "{\n\t\tif res := gqlexec.StringAt(&obj.Name); res != graphql.Null {\n\t\t\treturn res\n\t\t}") ||
		!strings.Contains(body, "return graphql.ResolveField(") {
		t.Errorf("a string field has no direct path before its generated body:\n%s", body)
	}
	if body := fn("_T_note"); !strings.Contains(body, "v := obj.Note\n\t\tif v == nil {\n\t\t\treturn graphql.Null\n\t\t}\n\t\tif res := gqlexec.StringAt(v); res != graphql.Null {") {
		t.Errorf("a nullable field's direct path is wrong:\n%s", body)
	}
	if body := fn("_T_count"); !strings.Contains(body, "if res := gqlexec.IntAt(&obj.Count); res != graphql.Null {") {
		t.Errorf("an Int field's direct path is wrong:\n%s", body)
	}
	// A type of our own, and an object passed by value (&obj.Name would move it to
	// the heap), keep the scalar's own marshaler on a copy.
	if body := fn("_T_kind"); !strings.Contains(body, "v := obj.Kind\n\t\tif res := graphql.MarshalString(string(v)); res != graphql.Null {") {
		t.Errorf("a named type's direct path is wrong:\n%s", body)
	}
	if body := fn("_V_name"); !strings.Contains(body, "v := obj.Name\n\t\tif res := graphql.MarshalString(v); res != graphql.Null {") {
		t.Errorf("a value object's direct path is wrong:\n%s", body)
	}
	// An object: ResolveField's steps without the interceptor chain, then the
	// generated body (which a failing field context reaches).
	if body := fn("_T_owner"); !strings.Contains(body, "if fc, err := ec.fieldContext_T_owner(ctx, field); err == nil {\n\t\tctx, fc := gqlexec.WithFieldContext(ctx, fc)\n\t\tdefer func() {") ||
		!strings.Contains(body, "ec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))\n\t\t\t\tret = graphql.Null") ||
		!strings.Contains(body, "fc.Result = obj.Owner\n\t\treturn ec.marshalOUser2ᚖUser(ctx, field.Selections, obj.Owner)") ||
		!strings.Contains(body, "return graphql.ResolveField(") {
		t.Errorf("an object field's lean path is wrong:\n%s", body)
	}
	// A resolver without arguments: called with the field's context, its error
	// reported as ResolveField reports it (RequiredNull where the field is non-null
	// and ResolveField's nonNull is false).
	if body := fn("_T_author"); !strings.Contains(body, "v, err := ec.Resolvers.T().Author(ctx, obj)\n\t\tif err != nil {\n\t\t\tec.OperationContext.Error(ctx, graphql.AddFieldLocationToError(ctx, err))\n\t\t\tif fc.NonNull {\n\t\t\t\treturn graphql.RequiredNull\n\t\t\t}\n\t\t\treturn graphql.Null\n\t\t}\n\t\tfc.Result = v\n\t\treturn ec.marshalOUser2ᚖUser(ctx, field.Selections, v)") ||
		!strings.Contains(body, "ctx, fc := gqlexec.WithFieldContext(ctx, fc)\n\t\tdefer func() {") {
		t.Errorf("a resolver's lean path is wrong:\n%s", body)
	}
	// An interface value (a nil one is ResolveField's special case) and a resolver
	// with arguments keep the generated body alone.
	for _, name := range []string{"_T_node", "_T_withArgs"} {
		if body := fn(name); strings.Contains(body, "v, err :=") {
			t.Errorf("%s got a lean path:\n%s", name, body)
		}
	}
	for _, name := range []string{"_T_guarded", "_T_undirect"} {
		if body := fn(name); strings.Count(body, "obj.") != 1 { // the generated resolver's only
			t.Errorf("%s (a directive, an unnamed field) got a direct path:\n%s", name, body)
		}
	}
	if body := fn("_T"); !strings.Contains(body, "return gqlexec.Object(out, fields)") || !strings.Contains(body, "return graphql.Null") {
		t.Errorf("the object's return is not rewritten:\n%s", body)
	}
	if !strings.Contains(got, "out := graphql.Null\n\treturn out") {
		t.Errorf("a function without a field set was rewritten:\n%s", got)
	}
	// The rewrite is done once: a second pass finds nothing.
	if again, err := inlineLists(file, direct); err != nil || again != (rewrites{}) {
		t.Errorf("a second pass rewrote %+v (%v)", again, err)
	}
	// A named function that is missing is an error (the schema and the data disagree).
	if _, err := inlineLists(file, map[string]bool{"_T_gone": true}); err == nil {
		t.Error("a missing direct field's function passed")
	}
}

// TestGeneratedCodeHasDirectFields guards the committed executor: the scalars of a
// message and of a conversation take the direct path, and objects are written by
// gqlexec.Object.
func TestGeneratedCodeHasDirectFields(t *testing.T) {
	src, err := os.ReadFile("../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, f := range []string{"_Message_datetime", "_Message_status", "_Message_content", "_User_firstName", "_Conversation_lastUpdateTime"} {
		i := strings.Index(s, "func (ec *executionContext) "+f+"(")
		if i < 0 {
			t.Fatalf("no %s in graph/generated.go", f)
		}
		body, _, _ := strings.Cut(s[i:], "\n}\n")
		if !strings.Contains(body, "v := obj.") && !strings.Contains(body, "At(&obj.") {
			t.Errorf("%s has no direct path: regenerate with make generate\n%s", f, body)
		}
	}
	for f, twin := range map[string]string{"_Message_datetime": "scalar.TimeAt(&obj.", "_Message_content": "gqlexec.StringAt(v)",
		"_Message_id": "scalar.MessageIDAt(&obj.", "_Conversation_id": "scalar.Int64IDAt(&obj."} {
		i := strings.Index(s, "func (ec *executionContext) "+f+"(")
		if i < 0 {
			t.Errorf("no %s in graph/generated.go", f)
			continue
		}
		if body, _, _ := strings.Cut(s[i:], "\n}\n"); !strings.Contains(body, twin) {
			t.Errorf("%s does not call %s: regenerate with make generate", f, twin)
		}
	}
	if n := strings.Count(s, "return gqlexec.Object(out, fields)"); n < 30 {
		t.Errorf("%d objects are written by gqlexec.Object: regenerate with make generate", n)
	}
}

const execSample = `package graph

import (
	"bytes"
	"context"

	"github.com/99designs/gqlgen/graphql"
)

func (e *executableSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	switch opCtx.Operation.Operation {
	case ast.Query:
		return func(ctx context.Context) *graphql.Response {
			var data graphql.Marshaler
			var buf bytes.Buffer
			data.MarshalGQL(&buf)
			return &graphql.Response{Data: buf.Bytes()}
		}
	case ast.Subscription:
		var buf bytes.Buffer
		return func(ctx context.Context) *graphql.Response {
			buf.Reset()
			data.MarshalGQL(&buf)
			return &graphql.Response{Data: buf.Bytes()}
		}
	}
	return nil
}
`

// The answer's buffer is sized from the operation's last answer where the executor
// makes one per answer; the subscription's buffer, reused, is left alone.
func TestSizedResponses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(file, []byte(execSample), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := inlineLists(file, nil)
	if err != nil || done.responses != 1 {
		t.Fatalf("rewrote %+v (%v), want one response buffer", done, err)
	}
	out, _ := os.ReadFile(file)
	got := string(out)
	if !strings.Contains(got, "var buf bytes.Buffer\n\t\t\tbuf.Grow(gqlexec.ResponseSize(opCtx))\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tgqlexec.ResponseWritten(opCtx, buf.Len())") {
		t.Errorf("the query's buffer is not sized:\n%s", got)
	}
	if strings.Count(got, "ResponseSize") != 1 {
		t.Errorf("the subscription's reused buffer was rewritten:\n%s", got)
	}
}
