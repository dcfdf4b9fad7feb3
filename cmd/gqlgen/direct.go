package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"github.com/99designs/gqlgen/codegen"
)

// directFields names the resolver-less fields that read a field of their object's
// Go struct: the generated function of each is "_<Object>_<field>". gqlgen resolves
// every field through graphql.ResolveField: a field context (allocated and put in
// the context), the interceptor chain, a deferred recover, the value boxed in an
// interface, two closures. For a scalar read from a struct field none of that is
// needed on the way to a value: no resolver runs, no interceptor is registered (the
// server refuses to register one: server/graphql.go), and a scalar's marshaler
// reads neither the context nor the selection unless its value is null. So the
// rewrite (directScalars) puts a direct path in front of the generated body: the
// scalar's marshaler on the struct field; when that gives null (the one answer
// that must be reported at the field's path) the generated body runs as before.
//
// A field qualifies when gqlgen binds it to a struct variable (no resolver, no
// method, no directive) that is not reached through an embedded pointer (which
// could be nil, and whose panic the generated body would recover).
func directFields(data *codegen.Data) map[string]bool {
	direct := map[string]bool{}
	for _, obj := range data.Objects {
		if obj.Root || obj.Type == nil {
			continue
		}
		st := obj.Type
		if p, ok := st.(*types.Pointer); ok {
			st = p.Elem()
		}
		for _, f := range obj.Fields {
			if f.IsResolver || f.GoFieldType != codegen.GoFieldVariable || f.GoFieldName == "" ||
				runtimeDirectives(f) || len(f.Args) > 0 || f.Stream {
				continue
			}
			v, index, indirect := types.LookupFieldOrMethod(st, true, nil, f.GoFieldName)
			if _, ok := v.(*types.Var); !ok || indirect || len(index) == 0 {
				continue
			}
			direct["_"+obj.Name+"_"+f.Name] = true
		}
	}
	return direct
}

// runtimeDirectives reports whether a directive runs when f resolves (the
// generated body then passes a middleware to ResolveField); a scalar's
// @specifiedBy does not.
func runtimeDirectives(f *codegen.Field) bool {
	for _, d := range f.Directives {
		if !d.SkipRuntime {
			return true
		}
	}
	return false
}

// directScalars puts a direct path in front of each function named in direct whose
// body is the expected graphql.ResolveField call and whose field's marshaler is a
// scalar's (see scalarMarshal), a lean path in front of the other functions named
// in direct (leanPath) and of field resolvers without arguments (leanResolver), and
// reports how many it rewrote. The direct path:
//
//	{ v := obj.X; if res := F(v); res != graphql.Null { return res } }
//	{ v := obj.X; if v == nil { return graphql.Null }; if res := F(*v); res != graphql.Null { return res } }
//
// for a value and for a nullable pointer, F being the scalar's marshal function;
// after it the generated body runs unchanged. Where F has an allocation-free twin
// (atCall) the path calls it: At(&obj.X), or At(v) for a pointer.
func directScalars(f *ast.File, direct map[string]bool) (int, error) {
	funcs := map[string]*ast.FuncDecl{}
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Body != nil {
			funcs[fn.Name.Name] = fn
		}
	}
	for name := range direct {
		if funcs[name] == nil {
			return 0, fmt.Errorf("no function %s for a direct field", name)
		}
	}
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		parts, ok := resolveFieldParts(fn)
		if !ok || funcs[parts.marshal] == nil {
			continue // a shape we do not know: left as generated
		}
		var fast []ast.Stmt
		switch {
		case parts.resolver != nil:
			fast = leanResolver(parts)
		case direct[fn.Name.Name]:
			if fast = scalarMarshal(funcs[parts.marshal], parts.value, parts.vType, pointerObj(fn)); fast == nil {
				fast = leanPath(parts)
			}
		}
		if fast == nil {
			continue
		}
		fn.Body.List = append(fast, fn.Body.List...)
		n++
	}
	return n, nil
}

// fieldParts is what resolveFieldParts reads from a generated field function.
type fieldParts struct {
	value    ast.Expr      // obj.X, for a struct field
	resolver *ast.CallExpr // ec.Resolvers.T().F(ctx, obj), for a resolver
	marshal  string        // the marshaler's name
	context  string        // the field context's constructor's name
	vType    ast.Expr      // the value's Go type
	recover  bool          // whether ResolveField recovers a panic
	nonNull  bool          // ResolveField's nonNull
}

// resolveFieldParts matches a body that is exactly
//
//	return graphql.ResolveField(ctx, ec.OperationContext, field,
//		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
//			return ec.<context>(ctx, field)
//		},
//		func(ctx context.Context) (any, error) { return obj.X, nil },
//		nil,
//		func(ctx context.Context, selections ast.SelectionSet, v T) graphql.Marshaler {
//			return ec.<marshal>(ctx, selections, v)
//		}, <recover>, <nonNull>)
func resolveFieldParts(fn *ast.FuncDecl) (parts fieldParts, ok bool) {
	if len(fn.Body.List) != 1 {
		return parts, false
	}
	ret, isRet := fn.Body.List[0].(*ast.ReturnStmt)
	if !isRet || len(ret.Results) != 1 {
		return parts, false
	}
	call, isCall := ret.Results[0].(*ast.CallExpr)
	if !isCall || !isSelector(call.Fun, "graphql", "ResolveField") || len(call.Args) != 9 {
		return parts, false
	}
	if !isIdent(call.Args[5], "nil") { // a directive's middleware
		return parts, false
	}
	if parts.context, ok = ecCall(call.Args[3], "ctx", "field"); !ok {
		return parts, false
	}
	resolver, isLit := call.Args[4].(*ast.FuncLit)
	if !isLit || len(resolver.Body.List) != 1 {
		return parts, false
	}
	rr, isRet := resolver.Body.List[0].(*ast.ReturnStmt)
	if !isRet || !(len(rr.Results) == 2 && isIdent(rr.Results[1], "nil") || len(rr.Results) == 1) {
		return parts, false
	}
	switch r := rr.Results[0].(type) {
	case *ast.SelectorExpr: // return obj.X, nil
		if !isIdent(r.X, "obj") || len(rr.Results) != 2 {
			return parts, false
		}
		parts.value = &ast.SelectorExpr{X: ast.NewIdent("obj"), Sel: ast.NewIdent(r.Sel.Name)}
	case *ast.CallExpr: // return ec.Resolvers.T().F(ctx, obj)
		if !isResolverCall(r) || len(rr.Results) != 1 {
			return parts, false
		}
		parts.resolver = r
	default:
		return parts, false
	}
	if parts.marshal, ok = ecCall(call.Args[6], "ctx", "selections", "v"); !ok {
		return parts, false
	}
	m := call.Args[6].(*ast.FuncLit)
	if params := m.Type.Params.List; len(params) == 3 && len(params[2].Names) == 1 {
		parts.vType = params[2].Type
	}
	parts.recover = isIdent(call.Args[7], "true")
	parts.nonNull = isIdent(call.Args[8], "true")
	return parts, parts.vType != nil && (parts.recover || isIdent(call.Args[7], "false")) &&
		(parts.nonNull || isIdent(call.Args[8], "false"))
}

// isResolverCall matches ec.Resolvers.<Object>().<Field>(ctx, obj): a field
// resolver without arguments.
func isResolverCall(c *ast.CallExpr) bool {
	if len(c.Args) != 2 || !isIdent(c.Args[0], "ctx") || !isIdent(c.Args[1], "obj") {
		return false
	}
	m, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	inner, ok := m.X.(*ast.CallExpr)
	if !ok || len(inner.Args) != 0 {
		return false
	}
	o, ok := inner.Fun.(*ast.SelectorExpr)
	return ok && isSelector(o.X, "ec", "Resolvers")
}

// ecCall matches a function literal whose body is `return ec.<name>(<args>)` with
// exactly the identifiers args, and gives name.
func ecCall(e ast.Expr, args ...string) (string, bool) {
	lit, ok := e.(*ast.FuncLit)
	if !ok || len(lit.Body.List) != 1 {
		return "", false
	}
	r, ok := lit.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(r.Results) != 1 {
		return "", false
	}
	call, ok := r.Results[0].(*ast.CallExpr)
	if !ok || len(call.Args) != len(args) {
		return "", false
	}
	for i, a := range args {
		if !isIdent(call.Args[i], a) {
			return "", false
		}
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || !isIdent(sel.X, "ec") {
		return "", false
	}
	return sel.Sel.Name, true
}

// scalarMarshal matches gqlgen's two marshalers of a scalar or enum value:
//
//	_ = sel; res := F(v); if res == graphql.Null { <error at the field> }; return res
//	if v == nil { return graphql.Null }; _ = sel; _ = ctx; res := F(*v); return res
//
// where F's arguments mention neither ctx nor sel, and gives the statements of the
// direct path for value (of Go type vType; addressable: obj is a pointer), or nil
// for any other marshaler.
func scalarMarshal(m *ast.FuncDecl, value, vType ast.Expr, addressable bool) []ast.Stmt {
	body := m.Body.List
	nullable := false
	if len(body) == 5 {
		// if v == nil { return graphql.Null }
		ifs, ok := body[0].(*ast.IfStmt)
		if !ok || ifs.Init != nil || ifs.Else != nil || !isNilCheck(ifs.Cond, "v") || !returnsNull(ifs.Body) {
			return nil
		}
		if !isDiscard(body[1], "sel") || !isDiscard(body[2], "ctx") || !isReturnOf(body[4], "res") {
			return nil
		}
		nullable = true
		body = body[3:4]
	} else if len(body) == 4 {
		if !isDiscard(body[0], "sel") || !isReturnOf(body[3], "res") {
			return nil
		}
		ifs, ok := body[2].(*ast.IfStmt)
		if !ok || ifs.Init != nil || ifs.Else != nil || !isNullCheck(ifs.Cond, "res") {
			return nil
		}
		body = body[1:2]
	} else {
		return nil
	}
	assign, ok := body[0].(*ast.AssignStmt)
	if !ok || assign.Tok != token.DEFINE || len(assign.Lhs) != 1 || len(assign.Rhs) != 1 || !isIdent(assign.Lhs[0], "res") {
		return nil
	}
	call, ok := assign.Rhs[0].(*ast.CallExpr)
	if !ok || mentions(call, "ctx") || mentions(call, "sel") || !mentions(call, "v") {
		return nil
	}
	marshal, bind := copyExpr(call), true
	if marshal == nil {
		return nil
	}
	if at, atBind := atCall(call, value, nullable, vType, addressable); at != nil {
		marshal, bind = at, atBind
	}
	null := &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("Null")}
	fast := &ast.IfStmt{
		Init: &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("res")}, Tok: token.DEFINE, Rhs: []ast.Expr{marshal}},
		Cond: &ast.BinaryExpr{X: ast.NewIdent("res"), Op: token.NEQ, Y: null},
		Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{ast.NewIdent("res")}}}},
	}
	var inner []ast.Stmt
	if bind {
		inner = append(inner, &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("v")}, Tok: token.DEFINE, Rhs: []ast.Expr{value}})
	}
	if nullable {
		// A nil pointer is null without an error (the field is nullable), as the
		// generated body would answer.
		inner = append(inner, &ast.IfStmt{
			Cond: &ast.BinaryExpr{X: ast.NewIdent("v"), Op: token.EQL, Y: ast.NewIdent("nil")},
			Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{null}}}},
		})
	}
	return []ast.Stmt{&ast.BlockStmt{List: append(inner, fast)}}
}
