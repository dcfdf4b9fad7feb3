package main

import (
	"go/ast"
	"go/token"
	"go/types"
)

// atMarshaler is a scalar marshaler that costs no allocation (gqlexec/scalars.go,
// scalar/): at names the function and goType the Go type of the value it takes a
// pointer to, or, with byValue, the value itself.
type atMarshaler struct {
	pkg, at, goType string
	byValue         bool
}

// atMarshalers maps a scalar's marshal function, as gqlgen's marshalers call it,
// to its allocation-free twin, which writes the same bytes. The direct path of a
// struct field calls the twin: gqlgen's marshalers box a copy of the value in a
// closure, one allocation per field of every object of an answer.
var atMarshalers = map[string]atMarshaler{
	"graphql.MarshalString":   {pkg: "gqlexec", at: "StringAt", goType: "string"},
	"graphql.MarshalID":       {pkg: "gqlexec", at: "StringAt", goType: "string"},
	"graphql.MarshalInt":      {pkg: "gqlexec", at: "IntAt", goType: "int"},
	"graphql.MarshalBoolean":  {pkg: "gqlexec", at: "Bool", goType: "bool", byValue: true},
	"scalar.MarshalTime":      {pkg: "scalar", at: "TimeAt", goType: "time.Time"},
	"scalar.MarshalMessageID": {pkg: "scalar", at: "MessageIDAt", goType: "uuid.UUID"},
	"scalar.MarshalInt64ID":   {pkg: "scalar", at: "Int64IDAt", goType: "int64"},
}

// atCall gives the twin's call for the marshaler's call F(v), or F(*v) when the
// field is a nullable pointer, of a field whose value is value (obj.X) of Go type
// vType: At(&obj.X) for a value (bind false: the direct path need not copy it
// into v), At(v) for a pointer, Bool(v) or Bool(*v) for a boolean. It gives nil
// where F has no twin, the types differ or value's address is not obj's own
// (addressable false: obj is not a pointer, and &obj.X would move it to the heap).
func atCall(call *ast.CallExpr, value ast.Expr, nullable bool, vType ast.Expr, addressable bool) (at ast.Expr, bind bool) {
	fun, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) != 1 {
		return nil, false
	}
	pkg, ok := fun.X.(*ast.Ident)
	if !ok {
		return nil, false
	}
	m, ok := atMarshalers[pkg.Name+"."+fun.Sel.Name]
	if !ok {
		return nil, false
	}
	want := m.goType
	if nullable {
		want = "*" + want
	}
	if vType == nil || types.ExprString(vType) != want {
		return nil, false
	}
	arg := call.Args[0]
	if nullable {
		star, ok := arg.(*ast.StarExpr)
		if !ok {
			return nil, false
		}
		arg = star.X
	}
	if !isIdent(arg, "v") {
		return nil, false
	}
	twin := &ast.SelectorExpr{X: ast.NewIdent(m.pkg), Sel: ast.NewIdent(m.at)}
	switch {
	case m.byValue:
		return &ast.CallExpr{Fun: twin, Args: []ast.Expr{copyExpr(call.Args[0])}}, true
	case nullable:
		return &ast.CallExpr{Fun: twin, Args: []ast.Expr{ast.NewIdent("v")}}, true
	case addressable:
		return &ast.CallExpr{Fun: twin, Args: []ast.Expr{&ast.UnaryExpr{Op: token.AND, X: copyExpr(value)}}}, false
	}
	return nil, false
}

// pointerObj reports whether fn's parameter obj is a pointer.
func pointerObj(fn *ast.FuncDecl) bool {
	for _, p := range fn.Type.Params.List {
		for _, name := range p.Names {
			if name.Name == "obj" {
				_, ok := p.Type.(*ast.StarExpr)
				return ok
			}
		}
	}
	return false
}
