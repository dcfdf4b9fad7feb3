package resolvers

import (
	"strconv"

	"github.com/connectme/connectme/apperr"
)

// MaxPageSize bounds every list: first/last of a cursor window, limit of an offset page.
const MaxPageSize = 100

// MaxWholeList caps a request for a whole list (PageRequest.Whole).
const MaxWholeList = 1000

// defaultPageSize is used when a cursor window gets neither first nor last.
const defaultPageSize = 20

// maxPageNumber bounds an offset page's number, so the offset stays a sane integer.
const maxPageNumber = 1_000_000

// PageRequest asks for one page of a list. It is either a cursor window
// (First/After forward, Last/Before backward; keyset positions of type C, which the
// transport encodes for its clients) or, when Page or Limit is set, an offset page
// (Page from 1, Limit items). Whole asks for the list from its start, up to
// MaxWholeList items. The zero value is the first 20 items.
type PageRequest[C any] struct {
	First, Last   *int
	After, Before *C
	Page, Limit   int
	Whole         bool
}

// Page is one page of a list, in list order.
type Page[T any] struct {
	Items []T
	// HasNext and HasPrevious say whether the list goes on after the last item and
	// before the first one.
	HasNext, HasPrevious bool
	// Total is the length of the whole list, counted when the call's options ask for
	// it (the offset pages of messages, search and conversations always carry it:
	// their statement brings it along). Otherwise 0.
	Total int
}

// pagePlan is a validated PageRequest.
type pagePlan[C any] struct {
	// size is how many items the page holds at most.
	size int
	// fromEnd takes the window's items from its end (last/before).
	fromEnd bool
	// offset is set for offset pages and whole lists.
	offset   int
	isOffset bool
	after    *C
	before   *C
}

// plan validates the request: the one place where page sizes and limits are checked.
// backward says whether the list can be paged backward (last/before).
func (p PageRequest[C]) plan(backward bool) (pagePlan[C], error) {
	cursors := p.First != nil || p.Last != nil || p.After != nil || p.Before != nil
	switch {
	case p.Whole:
		if cursors || p.Page != 0 || p.Limit != 0 {
			return pagePlan[C]{}, apperr.Invalidf("a whole list takes no page, limit or cursor")
		}
		return pagePlan[C]{size: MaxWholeList, isOffset: true}, nil
	case p.Page != 0 || p.Limit != 0:
		if cursors {
			return pagePlan[C]{}, apperr.Invalidf("give page and limit, or cursors, not both")
		}
		offset, err := ValidatePage(p.Page, p.Limit)
		return pagePlan[C]{size: p.Limit, offset: offset, isOffset: true}, err
	}
	var v apperr.Validation
	if !backward && (p.Last != nil || p.Before != nil) {
		v.Addf("this list pages forward only: use first and after")
	}
	if p.First != nil && p.Last != nil {
		v.Addf("give first or last, not both")
	}
	for _, f := range []struct {
		name string
		n    *int
	}{{"first", p.First}, {"last", p.Last}} {
		if f.n == nil {
			continue
		}
		if *f.n < 0 {
			v.Addf("%s must not be negative", f.name)
		} else if *f.n > MaxPageSize {
			v.Addf("%s must not be greater than %d", f.name, MaxPageSize)
		}
	}
	if err := v.Err(); err != nil {
		return pagePlan[C]{}, err
	}
	pl := pagePlan[C]{size: defaultPageSize, after: p.After, before: p.Before}
	switch {
	case p.First != nil:
		pl.size = *p.First
	case p.Last != nil:
		pl.size, pl.fromEnd = *p.Last, true
	}
	return pl, nil
}

// window cuts a cursor window's items, fetched with one extra item (size+1), to the
// page and says where the list goes on.
func window[C, T any](pl pagePlan[C], items []T) *Page[T] {
	more := len(items) > pl.size
	if more {
		if pl.fromEnd {
			items = items[len(items)-pl.size:]
		} else {
			items = items[:pl.size]
		}
	}
	pg := &Page[T]{Items: items, HasNext: more, HasPrevious: pl.after != nil}
	if pl.fromEnd {
		pg.HasNext, pg.HasPrevious = pl.before != nil, more
	}
	return pg
}

// offsetPage is an offset page's items with the list's total.
func offsetPage[C, T any](pl pagePlan[C], items []T, total int) *Page[T] {
	return &Page[T]{Items: items, Total: total, HasPrevious: pl.offset > 0, HasNext: pl.offset+len(items) < total}
}

// ValidatePage checks an offset page's page/limit pair (CONTRACT §2) and returns the
// offset.
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
	if page > maxPageNumber {
		return 0, apperr.Invalidf("page must not be greater than %d", maxPageNumber)
	}
	return (page - 1) * limit, nil
}

// ParseID reads a numeric id argument named field.
func ParseID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || s[0] == '+' {
		return 0, apperr.Invalidf("%s must be a positive integer id", field)
	}
	return id, nil
}

// ParseOptionalID is ParseID for an id that may be absent (nil).
func ParseOptionalID(field string, s *string) (*int64, error) {
	if s == nil {
		return nil, nil
	}
	id, err := ParseID(field, *s)
	return &id, err
}
