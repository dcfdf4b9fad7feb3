package main

import (
	"strings"
	"testing"
)

const laneSample = `package graph

func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
	fields := ec.collected.Fields(ec.OperationContext, sel, tImplementors)
	out := graphql.NewFieldSet(fields)
	deferred := graphql.DeferredGroup{}
	for i, field := range fields {
		switch field.Name {
		case "id":
			out.Values[i] = ec._T_id(ctx, field, obj)
		case "owner":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				true, false,
				func(ctx context.Context) graphql.Marshaler {
					return ec._T_owner(ctx, field, obj)
				})
		case "items":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				false, true,
				func(ctx context.Context) graphql.Marshaler {
					return ec._T_items(ctx, field, obj)
				})
		case "odd":
			out.ResolveConcurrently(ec.OperationContext, &deferred, i,
				true, true,
				func(ctx context.Context) graphql.Marshaler {
					res := ec._T_odd(ctx, field, obj)
					return res
				})
		}
	}
	out.Dispatch(ctx)
	return out
}

func (ec *executionContext) _U(ctx context.Context, sel ast.SelectionSet, obj *U) graphql.Marshaler {
	fields := ec.collected.Fields(ec.OperationContext, sel, uImplementors)
	out := graphql.NewFieldSet(fields)
	for i, field := range fields {
		switch field.Name {
		case "id":
			out.Values[i] = ec._U_id(ctx, field, obj)
		}
	}
	return out
}
`

// A resolver field runs in the object's lane while quick, with the recover and
// the invalid result of its ResolveConcurrently call, which stays for the slow
// and the deferred; another shape of task, and an object without one, are left
// alone.
func TestLaneFields(t *testing.T) {
	file, done, got := rewriteSample(t, laneSample)
	if done.lanes != 2 {
		t.Fatalf("rewrote %+v, want 2 resolver fields", done)
	}
	for _, want := range []string{
		"deferred := graphql.DeferredGroup{}\n\tvar lane gqlexec.Lane\n\tfor i, field := range fields {",
		"case \"owner\":\n\t\t\tif lane.Quick(field) {\n\t\t\t\tout.Values[i] = lane.Resolve(ctx, ec.OperationContext, true, func(ctx context.Context) graphql.Marshaler {\n\t\t\t\t\treturn ec._T_owner(ctx, field, obj)\n\t\t\t\t})\n\t\t\t\tif out.Values[i] == graphql.RequiredNull {\n\t\t\t\t\tatomic.AddUint32(&out.Invalids, 1)\n\t\t\t\t}\n\t\t\t} else {\n\t\t\t\tout.ResolveConcurrently(ec.OperationContext, &deferred, i,\n\t\t\t\t\ttrue, false,",
		"out.Values[i] = lane.Resolve(ctx, ec.OperationContext, false, func(ctx context.Context) graphql.Marshaler {\n\t\t\t\t\treturn ec._T_items(ctx, field, obj)\n\t\t\t\t})\n\t\t\t\tif out.Values[i] == graphql.Null {",
		"case \"odd\":\n\t\t\tout.ResolveConcurrently(",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the rewritten file lacks\n%s\nin\n%s", want, got)
		}
	}
	if strings.Count(got, "var lane") != 1 {
		t.Errorf("an object without resolver fields got a lane:\n%s", got)
	}
	if again, err := inlineLists(file, nil); err != nil || again.lanes != 0 {
		t.Errorf("a second pass rewrote %+v (%v)", again, err)
	}
}
