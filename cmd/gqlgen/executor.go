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

// emptyLists puts `if len(v) == 0 { return gqlexec.EmptyArray }` in front of each
// list marshaler's
//
//	ret := gqlexec.MarshalSlice(ctx, len(v), …)
//	[for _, e := range ret { … }]
//	return ret
//
// which for no element builds a closure and an empty graphql.Array, boxed, to
// write "[]" (a message's attachments, mostly none); it reports how many it
// rewrote.
func emptyLists(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		list := fn.Body.List
		for i, s := range list {
			if !isSliceMarshal(s) || !isReturnOf(list[len(list)-1], "ret") || len(list)-i > 3 || i > 0 && isEmptyReturn(list[i-1]) {
				continue
			}
			if len(list)-i == 3 {
				if r, ok := list[i+1].(*ast.RangeStmt); !ok || !isIdent(r.X, "ret") {
					continue
				}
			}
			empty := &ast.IfStmt{
				Cond: &ast.BinaryExpr{X: &ast.CallExpr{Fun: ast.NewIdent("len"), Args: []ast.Expr{ast.NewIdent("v")}}, Op: token.EQL,
					Y: &ast.BasicLit{Kind: token.INT, Value: "0"}},
				Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{
					&ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("EmptyArray")}}}}},
			}
			fn.Body.List = append(append(append([]ast.Stmt{}, list[:i]...), empty), list[i:]...)
			n++
			break
		}
	}
	return n
}

// isSliceMarshal matches `ret := gqlexec.MarshalSlice(ctx, len(v), …)`.
func isSliceMarshal(s ast.Stmt) bool {
	a, ok := s.(*ast.AssignStmt)
	if !ok || a.Tok != token.DEFINE || len(a.Lhs) != 1 || len(a.Rhs) != 1 || !isIdent(a.Lhs[0], "ret") {
		return false
	}
	call, ok := a.Rhs[0].(*ast.CallExpr)
	if !ok || !isSelector(call.Fun, "gqlexec", "MarshalSlice") || len(call.Args) < 2 {
		return false
	}
	l, ok := call.Args[1].(*ast.CallExpr)
	return ok && isIdent(l.Fun, "len") && len(l.Args) == 1 && isIdent(l.Args[0], "v")
}

// isEmptyReturn matches the statement emptyLists puts in: a second pass adds none.
func isEmptyReturn(s ast.Stmt) bool {
	ifs, ok := s.(*ast.IfStmt)
	if !ok || len(ifs.Body.List) != 1 {
		return false
	}
	r, ok := ifs.Body.List[0].(*ast.ReturnStmt)
	return ok && len(r.Results) == 1 && isSelector(r.Results[0], "gqlexec", "EmptyArray")
}

// collectedFields adds a gqlexec.Collected to the executionContext type (one per
// operation) and points each object marshaler's
// `graphql.CollectFields(ec.OperationContext, sel, X)` at it; it reports how many
// calls it rewrote, and none where the type is not found.
func collectedFields(f *ast.File) int {
	var ecType *ast.StructType
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, spec := range g.Specs {
			if ts := spec.(*ast.TypeSpec); ts.Name.Name == "executionContext" {
				ecType, _ = ts.Type.(*ast.StructType)
			}
		}
	}
	if ecType == nil {
		return 0
	}
	for _, field := range ecType.Fields.List {
		if len(field.Names) == 1 && field.Names[0].Name == "collected" {
			return 0 // rewritten before
		}
	}
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || fn.Recv == nil || len(fn.Recv.List) != 1 || len(fn.Recv.List[0].Names) != 1 ||
			fn.Recv.List[0].Names[0].Name != "ec" {
			continue
		}
		ast.Inspect(fn.Body, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || !isSelector(call.Fun, "graphql", "CollectFields") || len(call.Args) != 3 ||
				!isSelector(call.Args[0], "ec", "OperationContext") {
				return true
			}
			call.Fun = &ast.SelectorExpr{X: &ast.SelectorExpr{X: ast.NewIdent("ec"), Sel: ast.NewIdent("collected")}, Sel: ast.NewIdent("Fields")}
			n++
			return true
		})
	}
	if n > 0 {
		ecType.Fields.List = append(ecType.Fields.List, &ast.Field{
			Names: []*ast.Ident{ast.NewIdent("collected")},
			Type:  &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("Collected")},
		})
	}
	return n
}
