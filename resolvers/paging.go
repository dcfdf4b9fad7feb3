package resolvers

import (
	"context"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/graph/model"
)

// MaxPageSize bounds every list: first/last for connections, limit for REST pages.
const MaxPageSize = 100

// defaultPageSize is used when a connection gets neither first nor last.
const defaultPageSize = 20

// pageSize validates first/last. It returns how many items to take and whether they
// come from the end of the list (last).
func pageSize(first, last *int) (int, bool, error) {
	var v apperr.Validation
	if first != nil && last != nil {
		v.Addf("give first or last, not both")
	}
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n == nil {
			continue
		}
		if *n < 0 {
			v.Addf("%s must not be negative", name)
		} else if *n > MaxPageSize {
			v.Addf("%s must not be greater than %d", name, MaxPageSize)
		}
	}
	if err := v.Err(); err != nil {
		return 0, false, err
	}
	switch {
	case first != nil:
		return *first, false, nil
	case last != nil:
		return *last, true, nil
	}
	return defaultPageSize, false, nil
}

// ValidatePage checks the legacy page/limit pair (CONTRACT §2) and returns the offset.
func ValidatePage(page, limit int) (int, error) {
	var v apperr.Validation
	if page < 1 {
		v.Addf("page must not be less than 1")
	}
	if limit < 1 {
		v.Addf("limit must not be less than 1")
	} else if limit > MaxPageSize {
		v.Addf("limit must not be greater than %d", MaxPageSize)
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	if page > 1_000_000 {
		return 0, apperr.Invalidf("page must not be greater than 1000000")
	}
	return (page - 1) * limit, nil
}

// wantsTotal reports whether the GraphQL selection asks for totalCount, so lists only
// count when a client wants the number.
func wantsTotal(ctx context.Context) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

// edges makes a connection's edges from its nodes, and its page info.
func edges[T, E any](nodes []T, cursor func(T) string, edge func(string, T) E, hasNext, hasPrev bool) ([]E, *model.PageInfo) {
	out := make([]E, len(nodes))
	pi := &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
	for i, n := range nodes {
		c := cursor(n)
		out[i] = edge(c, n)
		if i == 0 {
			pi.StartCursor = &c
		}
		if i == len(nodes)-1 {
			pi.EndCursor = &c
		}
	}
	return out, pi
}

// parseID reads a numeric id argument.
func parseID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || s[0] == '+' {
		return 0, apperr.Invalidf("%s must be a positive integer id", field)
	}
	return id, nil
}

func parseOptionalID(field string, s *string) (*int64, error) {
	if s == nil {
		return nil, nil
	}
	id, err := parseID(field, *s)
	return &id, err
}
