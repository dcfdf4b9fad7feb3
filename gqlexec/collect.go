package gqlexec

import (
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Collected is one operation's cache of graphql.CollectFields: cmd/gqlgen adds one
// to the generated executionContext (one per operation) and points each object's
// marshaler at it. gqlgen caches the collection per operation too, but builds its
// key for every object of an answer by hashing the type's names (an allocation or
// three, a fifth of them all for the objects of a message page); this cache keys
// on where the selection set and the type's names lie, which is what identifies
// them: an object's marshaler passes its package-level list of implemented types
// and the selection set of the operation's document, both alive for the
// operation. The variables that decide @skip and @include are the operation's,
// fixed for its lifetime, as gqlgen's cache also assumes.
type Collected struct {
	mu sync.Mutex
	m  map[collectKey][]graphql.CollectedField
}

type collectKey struct {
	sel       *ast.Selection
	n         int
	satisfies *string
	m         int
}

// Fields is graphql.CollectFields(oc, sel, satisfies), collected once per
// operation.
func (c *Collected) Fields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	k := collectKey{n: len(sel), m: len(satisfies)}
	if len(sel) > 0 {
		k.sel = &sel[0]
	}
	if len(satisfies) > 0 {
		k.satisfies = &satisfies[0]
	}
	c.mu.Lock()
	fields, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return fields
	}
	fields = graphql.CollectFields(oc, sel, satisfies)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[collectKey][]graphql.CollectedField)
	}
	c.m[k] = fields
	c.mu.Unlock()
	return fields
}
