package gql

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/gqlexec"
	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/resolvers"
)

// Schema is the executable schema over r (the transports and limits, the complexity
// limit with Costs among them, are the server's).
func (r *Resolver) Schema() graphql.ExecutableSchema {
	return graph.NewExecutableSchema(graph.Config{Resolvers: r})
}

// pageCost is the page size a connection argument asks for (default 20). Sizes over
// the maximum cost as the maximum: the resolver refuses them with a clearer message.
func pageCost(first, last *int) int {
	n := 20
	if first != nil && *first > 0 {
		n = *first
	}
	if last != nil && *last > 0 {
		n = *last
	}
	return min(n, resolvers.MaxPageSize)
}

// connection is the cost of a connection: base plus its page size times its nodes'.
func connection(base int) func(int, gqlexec.Args) int {
	return func(child int, a gqlexec.Args) int {
		return base + pageCost(a.Int("first"), a.Int("last"))*child
	}
}

// Costs are the fields the complexity limit does not count as 1 plus their
// selection: the connections, whose cost grows with the page they ask for.
var Costs = gqlexec.Costs{
	{Type: "Query", Field: "conversations"}:   connection(1),
	{Type: "Query", Field: "messages"}:        connection(1),
	{Type: "Query", Field: "searchMessages"}:  connection(10),
	{Type: "Query", Field: "contacts"}:        connection(1),
	{Type: "Conversation", Field: "messages"}: connection(1),
}
