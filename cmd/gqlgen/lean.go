package main

// The lean paths: ResolveField's own steps, without the interceptor chain and its
// closures, for objects and lists read from a struct field and for field
// resolvers without arguments (directScalars puts them in front).

import (
	"go/ast"
	"go/token"
)

// leanPath is the direct path of a struct field whose value is a pointer or a
// slice (an object, a list): ResolveField's steps for such a value, which is never
// a nil interface, minus the interceptor chain and the closures around them —
//
//	if fc, err := ec.<context>(ctx, field); err == nil {
//		ctx, fc := gqlexec.WithFieldContext(ctx, fc) // graphql.WithFieldContext, one allocation
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
	body := []ast.Stmt{&ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent("ctx"), ast.NewIdent("fc")}, Tok: token.DEFINE,
		Rhs: []ast.Expr{&ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("WithFieldContext")},
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
