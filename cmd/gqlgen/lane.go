package main

import (
	"go/ast"
	"go/token"
)

// laneFields rewrites, in each object marshaler, every
//
//	out.ResolveConcurrently(ec.OperationContext, &deferred, i, <recover>, <nonNull>,
//		func(ctx context.Context) graphql.Marshaler { return ec._T_f(ctx, field, obj) })
//
// into
//
//	if lane.Quick(field) {
//		out.Values[i] = lane.Resolve(ctx, ec.OperationContext, <recover>, func(ctx context.Context) graphql.Marshaler {
//			return ec._T_f(ctx, field, obj)
//		})
//		if out.Values[i] == <graphql.Null, or RequiredNull where nonNull is false> {
//			atomic.AddUint32(&out.Invalids, 1)
//		}
//	} else {
//		<the call as it was>
//	}
//
// with `var lane gqlexec.Lane` before the fields' loop: a resolver field runs at
// once in the object's goroutine, as the object's scalars do, until one of them is
// slow (gqlexec.Lane), instead of a closure, a wrapper and a task list per field
// for Dispatch to run. It reports how many calls it rewrote.
func laneFields(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		var loop *ast.RangeStmt
		loopAt := -1
		for i, s := range fn.Body.List {
			if r, ok := s.(*ast.RangeStmt); ok && isIdent(r.X, "fields") {
				loop, loopAt = r, i
			}
		}
		if loop == nil {
			continue
		}
		found := 0
		ast.Inspect(loop.Body, func(node ast.Node) bool {
			cc, ok := node.(*ast.CaseClause)
			if !ok {
				return true
			}
			for j, s := range cc.Body {
				if lane := laneCall(s); lane != nil {
					cc.Body[j] = lane
					found++
				}
			}
			return false
		})
		if found == 0 {
			continue
		}
		decl := &ast.DeclStmt{Decl: &ast.GenDecl{Tok: token.VAR, Specs: []ast.Spec{&ast.ValueSpec{
			Names: []*ast.Ident{ast.NewIdent("lane")},
			Type:  &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("Lane")},
		}}}}
		list := append([]ast.Stmt{}, fn.Body.List[:loopAt]...)
		fn.Body.List = append(append(list, decl), fn.Body.List[loopAt:]...)
		n += found
	}
	return n
}

// laneCall gives the rewrite of s when it is the ResolveConcurrently call
// laneFields describes, and nil otherwise.
func laneCall(s ast.Stmt) ast.Stmt {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return nil
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok || !isSelector(call.Fun, "out", "ResolveConcurrently") || len(call.Args) != 6 ||
		!isSelector(call.Args[0], "ec", "OperationContext") || !isIdent(call.Args[2], "i") {
		return nil
	}
	if u, ok := call.Args[1].(*ast.UnaryExpr); !ok || u.Op != token.AND || !isIdent(u.X, "deferred") {
		return nil
	}
	rec, nonNull := call.Args[3], call.Args[4]
	if !isIdent(rec, "true") && !isIdent(rec, "false") || !isIdent(nonNull, "true") && !isIdent(nonNull, "false") {
		return nil
	}
	lit, ok := call.Args[5].(*ast.FuncLit)
	if !ok || len(lit.Body.List) != 1 {
		return nil
	}
	ret, ok := lit.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return nil
	}
	field, ok := ret.Results[0].(*ast.CallExpr)
	if !ok || len(field.Args) != 3 || !isIdent(field.Args[0], "ctx") || !isIdent(field.Args[1], "field") || !isIdent(field.Args[2], "obj") {
		return nil
	}
	if sel, ok := field.Fun.(*ast.SelectorExpr); !ok || !isIdent(sel.X, "ec") {
		return nil
	}
	lane := func(name string) ast.Expr { return &ast.SelectorExpr{X: ast.NewIdent("lane"), Sel: ast.NewIdent(name)} }
	value := func() ast.Expr {
		return &ast.IndexExpr{X: &ast.SelectorExpr{X: ast.NewIdent("out"), Sel: ast.NewIdent("Values")}, Index: ast.NewIdent("i")}
	}
	invalid := "Null"
	if isIdent(nonNull, "false") {
		invalid = "RequiredNull"
	}
	inline := []ast.Stmt{
		&ast.AssignStmt{Lhs: []ast.Expr{value()}, Tok: token.ASSIGN, Rhs: []ast.Expr{&ast.CallExpr{Fun: lane("Resolve"),
			Args: []ast.Expr{ast.NewIdent("ctx"), &ast.SelectorExpr{X: ast.NewIdent("ec"), Sel: ast.NewIdent("OperationContext")},
				ast.NewIdent(rec.(*ast.Ident).Name), &ast.FuncLit{Type: resolveFuncType(), Body: &ast.BlockStmt{List: []ast.Stmt{
					&ast.ReturnStmt{Results: []ast.Expr{copyExpr(field)}}}}}}}}},
		&ast.IfStmt{
			Cond: &ast.BinaryExpr{X: value(), Op: token.EQL, Y: &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent(invalid)}},
			Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ExprStmt{X: &ast.CallExpr{
				Fun: &ast.SelectorExpr{X: ast.NewIdent("atomic"), Sel: ast.NewIdent("AddUint32")},
				Args: []ast.Expr{&ast.UnaryExpr{Op: token.AND, X: &ast.SelectorExpr{X: ast.NewIdent("out"), Sel: ast.NewIdent("Invalids")}},
					&ast.BasicLit{Kind: token.INT, Value: "1"}}}}}},
		},
	}
	return &ast.IfStmt{
		Cond: &ast.CallExpr{Fun: lane("Quick"), Args: []ast.Expr{ast.NewIdent("field")}},
		Body: &ast.BlockStmt{List: inline},
		Else: &ast.BlockStmt{List: []ast.Stmt{s}},
	}
}

// resolveFuncType is func(ctx context.Context) graphql.Marshaler.
func resolveFuncType() *ast.FuncType {
	return &ast.FuncType{
		Params: &ast.FieldList{List: []*ast.Field{{Names: []*ast.Ident{ast.NewIdent("ctx")},
			Type: &ast.SelectorExpr{X: ast.NewIdent("context"), Sel: ast.NewIdent("Context")}}}},
		Results: &ast.FieldList{List: []*ast.Field{{Type: &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("Marshaler")}}}},
	}
}
