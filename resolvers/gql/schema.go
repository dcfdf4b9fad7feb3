package gql

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/graph"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// Schema is the executable schema over r, with the cost of each connection for
// gqlgen's complexity limit (the transports and limits are the server's).
func (r *Resolver) Schema() graphql.ExecutableSchema {
	cfg := graph.Config{Resolvers: r}
	setComplexity(&cfg.Complexity)
	return graph.NewExecutableSchema(cfg)
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

func setComplexity(c *graph.ComplexityRoot) {
	c.Query.Conversations = func(child int, first *int, _ *string, _ *model.ConversationFilter) int {
		return 1 + pageCost(first, nil)*child
	}
	c.Query.Messages = func(child int, _ string, first *int, _ *string, last *int, _ *string) int {
		return 1 + pageCost(first, last)*child
	}
	c.Query.SearchMessages = func(child int, _ string, first *int, _ *string) int {
		return 10 + pageCost(first, nil)*child
	}
	c.Query.Contacts = func(child int, first *int, _ *string, _ *string) int {
		return 1 + pageCost(first, nil)*child
	}
	c.Conversation.Messages = func(child int, first *int, _ *string, last *int, _ *string) int {
		return 1 + pageCost(first, last)*child
	}
}
