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
// after it the generated body runs unchanged.
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
			if fast = scalarMarshal(funcs[parts.marshal], parts.value); fast == nil {
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

// leanPath is the direct path of a struct field whose value is a pointer or a
// slice (an object, a list): ResolveField's steps for such a value, which is never
// a nil interface, minus the interceptor chain and the closures around them —
//
//	if fc, err := ec.<context>(ctx, field); err == nil {
//		ctx := graphql.WithFieldContext(ctx, fc)
//		defer func() { if r := recover(); r != nil { <ResolveField's error>; ret = graphql.Null } }()
//		fc.Result = obj.X
//		return ec.<marshal>(ctx, field.Selections, obj.X)
//	}
//
// (the recover only where the generated call recovers); a field context that
// fails goes on to the generated body, which fails the same way.
func leanPath(p fieldParts) []ast.Stmt {
	if !pointerOrSlice(p.vType) {
		return nil
	}
	return leanBody(p, nil, func() ast.Expr { return copyExpr(p.value) })
}

// leanResolver is leanPath for a field resolver without arguments, whose value is
// a pointer, a slice or a basic type (never a nil interface, which ResolveField
// treats apart): the resolver runs with the field's context, as it would in
// ResolveField, and its error is reported as ResolveField reports it —
//
//	v, err := ec.Resolvers.T().F(ctx, obj)
//	if err != nil {
//		ec.OperationContext.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
//		return graphql.Null // or RequiredNull where ResolveField's nonNull is false and the field's is true
//	}
func leanResolver(p fieldParts) []ast.Stmt {
	if !pointerOrSlice(p.vType) && !basicType(p.vType) {
		return nil
	}
	call := copyExpr(p.resolver)
	if call == nil {
		return nil
	}
	null := func() ast.Stmt {
		return &ast.ReturnStmt{Results: []ast.Expr{&ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("Null")}}}
	}
	onErr := []ast.Stmt{&ast.ExprStmt{X: &ast.CallExpr{
		Fun: &ast.SelectorExpr{X: &ast.SelectorExpr{X: ast.NewIdent("ec"), Sel: ast.NewIdent("OperationContext")}, Sel: ast.NewIdent("Error")},
		Args: []ast.Expr{ast.NewIdent("ctx"), &ast.CallExpr{
			Fun:  &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("AddFieldLocationToError")},
			Args: []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("err")}}}}}}
	if !p.nonNull {
		onErr = append(onErr, &ast.IfStmt{
			Cond: &ast.SelectorExpr{X: ast.NewIdent("fc"), Sel: ast.NewIdent("NonNull")},
			Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{&ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("RequiredNull")}}}}},
		})
	}
	onErr = append(onErr, null())
	resolve := []ast.Stmt{
		&ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("v"), ast.NewIdent("err")}, Tok: token.DEFINE, Rhs: []ast.Expr{call}},
		&ast.IfStmt{Cond: &ast.BinaryExpr{X: ast.NewIdent("err"), Op: token.NEQ, Y: ast.NewIdent("nil")}, Body: &ast.BlockStmt{List: onErr}},
	}
	return leanBody(p, resolve, func() ast.Expr { return ast.NewIdent("v") })
}

func pointerOrSlice(t ast.Expr) bool {
	switch t.(type) {
	case *ast.StarExpr, *ast.ArrayType:
		return true
	}
	return false
}

// basicType matches the Go types of scalars that are never a nil interface.
func basicType(t ast.Expr) bool {
	if id, ok := t.(*ast.Ident); ok {
		switch id.Name {
		case "string", "bool", "int", "int32", "int64", "float64":
			return true
		}
	}
	return isSelector(t, "time", "Time")
}

// leanBody is the block both lean paths share: the field context, the recover,
// then resolve's statements, then the marshaler on value.
func leanBody(p fieldParts, resolve []ast.Stmt, value func() ast.Expr) []ast.Stmt {
	ec := func(name string) ast.Expr { return &ast.SelectorExpr{X: ast.NewIdent("ec"), Sel: ast.NewIdent(name)} }
	oc := func(name string) ast.Expr {
		return &ast.SelectorExpr{X: &ast.SelectorExpr{X: ast.NewIdent("ec"), Sel: ast.NewIdent("OperationContext")}, Sel: ast.NewIdent(name)}
	}
	body := []ast.Stmt{&ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("ctx")}, Tok: token.DEFINE,
		Rhs: []ast.Expr{&ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("WithFieldContext")},
			Args: []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("fc")}}}}}
	if p.recover {
		// defer func() { if r := recover(); r != nil { ec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r)); ret = graphql.Null } }()
		handle := &ast.IfStmt{
			Init: &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("r")}, Tok: token.DEFINE, Rhs: []ast.Expr{&ast.CallExpr{Fun: ast.NewIdent("recover")}}},
			Cond: &ast.BinaryExpr{X: ast.NewIdent("r"), Op: token.NEQ, Y: ast.NewIdent("nil")},
			Body: &ast.BlockStmt{List: []ast.Stmt{
				&ast.ExprStmt{X: &ast.CallExpr{Fun: oc("Error"), Args: []ast.Expr{ast.NewIdent("ctx"),
					&ast.CallExpr{Fun: oc("Recover"), Args: []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("r")}}}}},
				&ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("ret")}, Tok: token.ASSIGN,
					Rhs: []ast.Expr{&ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("Null")}}},
			}},
		}
		body = append(body, &ast.DeferStmt{Call: &ast.CallExpr{Fun: &ast.FuncLit{
			Type: &ast.FuncType{Params: &ast.FieldList{}},
			Body: &ast.BlockStmt{List: []ast.Stmt{handle}},
		}}})
	}
	body = append(body, resolve...)
	body = append(body,
		&ast.AssignStmt{Lhs: []ast.Expr{&ast.SelectorExpr{X: ast.NewIdent("fc"), Sel: ast.NewIdent("Result")}}, Tok: token.ASSIGN, Rhs: []ast.Expr{value()}},
		&ast.ReturnStmt{Results: []ast.Expr{&ast.CallExpr{Fun: ec(p.marshal), Args: []ast.Expr{ast.NewIdent("ctx"),
			&ast.SelectorExpr{X: ast.NewIdent("field"), Sel: ast.NewIdent("Selections")}, value()}}}},
	)
	return []ast.Stmt{&ast.IfStmt{
		Init: &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("fc"), ast.NewIdent("err")}, Tok: token.DEFINE,
			Rhs: []ast.Expr{&ast.CallExpr{Fun: ec(p.context), Args: []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("field")}}}},
		Cond: &ast.BinaryExpr{X: ast.NewIdent("err"), Op: token.EQL, Y: ast.NewIdent("nil")},
		Body: &ast.BlockStmt{List: body},
	}}
}

// scalarMarshal matches gqlgen's two marshalers of a scalar or enum value:
//
//	_ = sel; res := F(v); if res == graphql.Null { <error at the field> }; return res
//	if v == nil { return graphql.Null }; _ = sel; _ = ctx; res := F(*v); return res
//
// where F's arguments mention neither ctx nor sel, and gives the statements of the
// direct path for value, or nil for any other marshaler.
func scalarMarshal(m *ast.FuncDecl, value ast.Expr) []ast.Stmt {
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
	marshal := copyExpr(call)
	if marshal == nil {
		return nil
	}
	null := &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("Null")}
	fast := &ast.IfStmt{
		Init: &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("res")}, Tok: token.DEFINE, Rhs: []ast.Expr{marshal}},
		Cond: &ast.BinaryExpr{X: ast.NewIdent("res"), Op: token.NEQ, Y: null},
		Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{ast.NewIdent("res")}}}},
	}
	bind := &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("v")}, Tok: token.DEFINE, Rhs: []ast.Expr{value}}
	var inner []ast.Stmt
	if nullable {
		// A nil pointer is null without an error (the field is nullable), as the
		// generated body would answer.
		inner = []ast.Stmt{bind, &ast.IfStmt{
			Cond: &ast.BinaryExpr{X: ast.NewIdent("v"), Op: token.EQL, Y: ast.NewIdent("nil")},
			Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{null}}}},
		}, fast}
	} else {
		inner = []ast.Stmt{bind, fast}
	}
	return []ast.Stmt{&ast.BlockStmt{List: inner}}
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, pkg) && sel.Sel.Name == name
}

// isDiscard matches `_ = name`.
func isDiscard(s ast.Stmt, name string) bool {
	a, ok := s.(*ast.AssignStmt)
	return ok && a.Tok == token.ASSIGN && len(a.Lhs) == 1 && len(a.Rhs) == 1 && isIdent(a.Lhs[0], "_") && isIdent(a.Rhs[0], name)
}

func isReturnOf(s ast.Stmt, name string) bool {
	r, ok := s.(*ast.ReturnStmt)
	return ok && len(r.Results) == 1 && isIdent(r.Results[0], name)
}

func isNilCheck(e ast.Expr, name string) bool {
	b, ok := e.(*ast.BinaryExpr)
	return ok && b.Op == token.EQL && isIdent(b.X, name) && isIdent(b.Y, "nil")
}

func isNullCheck(e ast.Expr, name string) bool {
	b, ok := e.(*ast.BinaryExpr)
	return ok && b.Op == token.EQL && isIdent(b.X, name) && isSelector(b.Y, "graphql", "Null")
}

func returnsNull(b *ast.BlockStmt) bool {
	if len(b.List) != 1 {
		return false
	}
	r, ok := b.List[0].(*ast.ReturnStmt)
	return ok && len(r.Results) == 1 && isSelector(r.Results[0], "graphql", "Null")
}

// mentions reports whether e names the identifier name anywhere (a selector's
// field name does not count).
func mentions(e ast.Node, name string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			ast.Inspect(x.X, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == name {
					found = true
				}
				return !found
			})
			return false
		case *ast.Ident:
			if x.Name == name {
				found = true
			}
		}
		return !found
	})
	return found
}

// copyExpr copies an expression made of calls, selectors, identifiers, stars,
// parentheses and literals, so the rewritten function shares no node with the
// marshaler it came from; it gives nil for anything else.
func copyExpr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case *ast.Ident:
		return ast.NewIdent(x.Name)
	case *ast.BasicLit:
		return &ast.BasicLit{Kind: x.Kind, Value: x.Value}
	case *ast.SelectorExpr:
		if inner := copyExpr(x.X); inner != nil {
			return &ast.SelectorExpr{X: inner, Sel: ast.NewIdent(x.Sel.Name)}
		}
	case *ast.StarExpr:
		if inner := copyExpr(x.X); inner != nil {
			return &ast.StarExpr{X: inner}
		}
	case *ast.ParenExpr:
		if inner := copyExpr(x.X); inner != nil {
			return &ast.ParenExpr{X: inner}
		}
	case *ast.CallExpr:
		fun := copyExpr(x.Fun)
		if fun == nil || x.Ellipsis.IsValid() {
			return nil
		}
		args := make([]ast.Expr, len(x.Args))
		for i, a := range x.Args {
			if args[i] = copyExpr(a); args[i] == nil {
				return nil
			}
		}
		return &ast.CallExpr{Fun: fun, Args: args}
	}
	return nil
}

// objectReturns replaces, in each object marshaler (a function whose body starts
// `out := graphql.NewFieldSet(fields)`), its final `return out` by
// `return gqlexec.Object(out, fields)`, which writes the same JSON without
// FieldSet.MarshalGQL's per-object map and per-field copies; it reports how many it
// replaced.
func objectReturns(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || len(fn.Body.List) == 0 {
			continue
		}
		hasFieldSet := false
		for _, s := range fn.Body.List {
			a, ok := s.(*ast.AssignStmt)
			if ok && a.Tok == token.DEFINE && len(a.Lhs) == 1 && len(a.Rhs) == 1 && isIdent(a.Lhs[0], "out") {
				if call, ok := a.Rhs[0].(*ast.CallExpr); ok && isSelector(call.Fun, "graphql", "NewFieldSet") &&
					len(call.Args) == 1 && isIdent(call.Args[0], "fields") {
					hasFieldSet = true
				}
			}
		}
		last := fn.Body.List[len(fn.Body.List)-1]
		if !hasFieldSet || !isReturnOf(last, "out") {
			continue
		}
		last.(*ast.ReturnStmt).Results[0] = &ast.CallExpr{
			Fun:  &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("Object")},
			Args: []ast.Expr{ast.NewIdent("out"), ast.NewIdent("fields")},
		}
		n++
	}
	return n
}

// sizedResponses puts, in the executor's Exec, around each
//
//	var buf bytes.Buffer
//	data.MarshalGQL(&buf)
//
// a buffer sized from the operation's last answer and the note of this one's size
// (gqlexec.ResponseSize, ResponseWritten), and reports how many it rewrote.
func sizedResponses(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || fn.Name.Name != "Exec" {
			continue
		}
		ast.Inspect(fn.Body, func(node ast.Node) bool {
			block, ok := node.(*ast.BlockStmt)
			if !ok {
				return true
			}
			for i := 0; i+1 < len(block.List); i++ {
				if !isBufDecl(block.List[i]) || !isMarshalIntoBuf(block.List[i+1]) {
					continue
				}
				grow := &ast.ExprStmt{X: &ast.CallExpr{
					Fun: &ast.SelectorExpr{X: ast.NewIdent("buf"), Sel: ast.NewIdent("Grow")},
					Args: []ast.Expr{&ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("ResponseSize")},
						Args: []ast.Expr{ast.NewIdent("opCtx")}}},
				}}
				note := &ast.ExprStmt{X: &ast.CallExpr{
					Fun:  &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("ResponseWritten")},
					Args: []ast.Expr{ast.NewIdent("opCtx"), &ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("buf"), Sel: ast.NewIdent("Len")}}},
				}}
				list := append([]ast.Stmt{}, block.List[:i+1]...)
				list = append(list, grow, block.List[i+1], note)
				block.List = append(list, block.List[i+2:]...)
				n++
				i += 3
			}
			return true
		})
	}
	return n
}

// isBufDecl matches `var buf bytes.Buffer`.
func isBufDecl(s ast.Stmt) bool {
	d, ok := s.(*ast.DeclStmt)
	if !ok {
		return false
	}
	g, ok := d.Decl.(*ast.GenDecl)
	if !ok || g.Tok != token.VAR || len(g.Specs) != 1 {
		return false
	}
	v, ok := g.Specs[0].(*ast.ValueSpec)
	return ok && len(v.Names) == 1 && v.Names[0].Name == "buf" && len(v.Values) == 0 && isSelector(v.Type, "bytes", "Buffer")
}

// isMarshalIntoBuf matches `data.MarshalGQL(&buf)`.
func isMarshalIntoBuf(s ast.Stmt) bool {
	e, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	c, ok := e.X.(*ast.CallExpr)
	if !ok || !isSelector(c.Fun, "data", "MarshalGQL") || len(c.Args) != 1 {
		return false
	}
	u, ok := c.Args[0].(*ast.UnaryExpr)
	return ok && u.Op == token.AND && isIdent(u.X, "buf")
}
