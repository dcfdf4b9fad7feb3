package main

// Rewrites of the executor's objects and answers (the fields' are in direct.go
// and lean.go).

import (
	"go/ast"
	"go/token"
)

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
