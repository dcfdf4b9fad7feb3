package main

// Matchers and a copier for the syntax trees of gqlgen's generated code.

import (
	"go/ast"
	"go/token"
)

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
