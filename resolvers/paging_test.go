package resolvers

import (
	"strings"
	"testing"

	"github.com/connectme/connectme/apperr"
)

func ptr[T any](v T) *T { return &v }

// TestPageRequest_PlanRefusesWhatNoListCanServe: the one place where page requests are
// checked refuses every mixed or out-of-range request with BAD_USER_INPUT naming the
// problem, and plans the valid ones.
func TestPageRequest_PlanRefusesWhatNoListCanServe(t *testing.T) {
	type req = PageRequest[int]
	for _, c := range []struct {
		name     string
		req      req
		backward bool
		want     string
	}{
		{"first and last", req{First: ptr(1), Last: ptr(1)}, true, "give first or last, not both"},
		{"negative first", req{First: ptr(-1)}, true, "first must not be negative"},
		{"last too large", req{Last: ptr(MaxPageSize + 1)}, true, "last must not be greater than 100"},
		{"last on a forward list", req{Last: ptr(2)}, false, "this list pages forward only"},
		{"before on a forward list", req{Before: ptr(3)}, false, "this list pages forward only"},
		{"cursor with a page", req{After: ptr(3), Page: 1, Limit: 5}, true, "give page and limit, or cursors, not both"},
		{"page zero", req{Page: 0, Limit: 5}, true, "page must not be less than 1"},
		{"limit too large", req{Page: 1, Limit: MaxPageSize + 1}, true, "limit must not be greater than 100"},
		{"page too far", req{Page: maxPageNumber + 1, Limit: 1}, true, "page must not be greater than 1000000"},
		{"whole with a limit", req{Whole: true, Limit: 5}, true, "a whole list takes no page, limit or cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.req.plan(c.backward)
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Invalid || !strings.Contains(e.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	for _, c := range []struct {
		name string
		req  req
		want pagePlan[int]
	}{
		{"default", req{}, pagePlan[int]{size: defaultPageSize}},
		{"last", req{Last: ptr(7), Before: ptr(9)}, pagePlan[int]{size: 7, fromEnd: true, before: ptr(9)}},
		{"offset", req{Page: 3, Limit: 10}, pagePlan[int]{size: 10, offset: 20, isOffset: true}},
		{"whole", req{Whole: true}, pagePlan[int]{size: MaxWholeList, isOffset: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.req.plan(true)
			if err != nil || got.size != c.want.size || got.fromEnd != c.want.fromEnd || got.offset != c.want.offset ||
				got.isOffset != c.want.isOffset || (got.before == nil) != (c.want.before == nil) {
				t.Errorf("plan = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// TestWindow_CutsTheExtraItemAtTheFarEnd: a window is fetched with one item more than
// its size; the extra item says the list goes on and is cut where the list goes on.
func TestWindow_CutsTheExtraItemAtTheFarEnd(t *testing.T) {
	fwd := window(pagePlan[int]{size: 2, after: ptr(1)}, []int{1, 2, 3})
	if len(fwd.Items) != 2 || fwd.Items[1] != 2 || !fwd.HasNext || !fwd.HasPrevious {
		t.Errorf("forward: %+v", fwd)
	}
	back := window(pagePlan[int]{size: 2, fromEnd: true}, []int{1, 2, 3})
	if len(back.Items) != 2 || back.Items[0] != 2 || back.HasNext || !back.HasPrevious {
		t.Errorf("backward: %+v", back)
	}
	last := window(pagePlan[int]{size: 5}, []int{1, 2})
	if len(last.Items) != 2 || last.HasNext || last.HasPrevious {
		t.Errorf("last page: %+v", last)
	}
}
