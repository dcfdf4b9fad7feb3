package gqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Coordinate names a field of a type, as in Query.conversations.
type Coordinate struct{ Type, Field string }

// Args reads a field's arguments for its cost: an argument's value as gqlgen's
// executor would see it (the literal, the variable's value, or the schema's
// default), without coercing the field's other arguments.
type Args struct {
	field *ast.Field
	vars  map[string]any
}

// Int is the argument name as an Int: nil when it is absent, null or not an Int.
func (a Args) Int(name string) *int {
	v, ok := a.value(name)
	if !ok || v == nil {
		return nil
	}
	n, err := graphql.UnmarshalInt(v)
	if err != nil {
		return nil
	}
	return &n
}

// value is one argument of ast.Field.ArgumentMap: a variable's value when the
// request gives it, else a literal, else the definition's default.
func (a Args) value(name string) (any, bool) {
	if arg := a.field.Arguments.ForName(name); arg != nil {
		if arg.Value.Kind == ast.Variable {
			if v, ok := a.vars[arg.Value.Raw]; ok {
				return v, true
			}
		} else if v, err := arg.Value.Value(a.vars); err == nil {
			return v, true
		}
	}
	if a.field.Definition == nil {
		return nil, false
	}
	if def := a.field.Definition.Arguments.ForName(name); def != nil && def.DefaultValue != nil {
		if v, err := def.DefaultValue.Value(a.vars); err == nil {
			return v, true
		}
	}
	return nil, false
}

// Costs are the fields whose cost is not 1 plus their selection's (a connection
// costs its page size times its nodes'); a cost under 1 counts as unset.
type Costs map[Coordinate]func(child int, args Args) int

// ComplexityLimit refuses an operation whose cost exceeds Limit, with the error
// gqlgen's extension.FixedComplexityLimit gives (code COMPLEXITY_LIMIT_EXCEEDED).
//
// It computes what gqlgen's complexity.Calculate computes (a field costs 1 plus its
// selection's, a fragment its selection's, an interface's field its costliest
// implementor's, __schema nothing) for the fields in Costs, but reads only the
// arguments a cost reads: gqlgen's walk builds every field's argument map and its
// generated Complexity coerces all of a costed field's arguments, so a conversation
// list's filter was coerced twice per request (once more to run the query), and
// the walk allocated a map for every field of every query (issue 20: fewer
// allocations per field). A test holds the two to the same figures.
type ComplexityLimit struct {
	Limit int
	Costs Costs
	// schema is the executable schema's, for interfaces' implementors.
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &ComplexityLimit{}

func (*ComplexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *ComplexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.schema = es.Schema()
	return nil
}

func (c *ComplexityLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	if n := c.Complexity(op, rc.Variables); n > c.Limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.Limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// Complexity is the cost of op with the request's variables.
func (c *ComplexityLimit) Complexity(op *ast.OperationDefinition, vars map[string]any) int {
	return c.selection(op.SelectionSet, vars)
}

func (c *ComplexityLimit) selection(set ast.SelectionSet, vars map[string]any) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || s.ObjectDefinition == nil || s.Definition.Type.Name() == "__Schema" {
				continue
			}
			// Only objects, interfaces and unions have a selection (validation sees
			// to it), and only theirs adds up.
			child := c.selection(s.SelectionSet, vars)
			var cost int
			if s.ObjectDefinition.Kind == ast.Interface {
				for _, t := range c.schema.GetPossibleTypes(s.ObjectDefinition) {
					cost = max(cost, c.field(t.Name, s, child, vars))
				}
			} else {
				cost = c.field(s.ObjectDefinition.Name, s, child, vars)
			}
			total = safeAdd(total, cost)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = safeAdd(total, c.selection(s.Definition.SelectionSet, vars))
			}
		case *ast.InlineFragment:
			total = safeAdd(total, c.selection(s.SelectionSet, vars))
		}
	}
	return total
}

func (c *ComplexityLimit) field(typ string, f *ast.Field, child int, vars map[string]any) int {
	if cost, ok := c.Costs[Coordinate{typ, f.Name}]; ok {
		if n := cost(child, Args{field: f, vars: vars}); n >= 1 {
			return n
		}
	}
	return safeAdd(1, child)
}

// safeAdd adds two costs, saturating instead of overflowing and ignoring a negative
// one, as gqlgen's walk does (a crafted query must not wrap its cost around).
func safeAdd(a, b int) int {
	switch {
	case a < 0 && b < 0:
		return 1
	case a < 0:
		return b
	case b < 0:
		return a
	}
	if s := a + b; s >= a {
		return s
	}
	return int(^uint(0) >> 1)
}
