package scalar

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
)

func TestMarshalInt64ID(t *testing.T) {
	for _, id := range []int64{0, 7, 1234567890, math.MaxInt64, math.MinInt64} {
		var b bytes.Buffer
		MarshalInt64ID(id).MarshalGQL(&b)
		if want := strconv.Quote(strconv.FormatInt(id, 10)); b.String() != want {
			t.Errorf("%d: wrote %s, want %s", id, b.String(), want)
		}
	}
}

func TestMarshalMessageID(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.MustParse("0190f1c2-7a3b-7c4d-8e5f-60718293a4b5")} {
		var b bytes.Buffer
		MarshalMessageID(id).MarshalGQL(&b)
		if want := `"` + hex.EncodeToString(id[:]) + `"`; b.String() != want {
			t.Errorf("%s: wrote %s, want %s", id, b.String(), want)
		}
	}
}

// The twins the executor's direct path calls (cmd/gqlgen's atMarshalers) write
// what MarshalInt64ID, MarshalMessageID and MarshalTime write, into the
// executor's buffer or any writer; they read the field when the answer is
// written, and into the buffer cost no allocation.
func TestAtTwins(t *testing.T) {
	row := struct {
		ID      int64
		Message uuid.UUID
		At      time.Time
	}{42, uuid.MustParse("0190f1c2-7a3b-7c4d-8e5f-60718293a4b5"), time.Date(2026, 1, 2, 8, 34, 5, 999_999_999, time.FixedZone("+0530", 5*3600+1800))}
	twins := []graphql.Marshaler{Int64IDAt(&row.ID), MessageIDAt(&row.Message), TimeAt(&row.At)}
	row.ID = math.MinInt64
	want := []graphql.Marshaler{MarshalInt64ID(row.ID), MarshalMessageID(row.Message), MarshalTime(row.At)}
	for i, m := range twins {
		var buf bytes.Buffer
		var plain, original strings.Builder
		buf.WriteString("x")
		m.MarshalGQL(&buf)
		m.MarshalGQL(&plain)
		want[i].MarshalGQL(&original)
		if buf.String() != "x"+original.String() || plain.String() != original.String() {
			t.Errorf("twin %d wrote %q and %q, want %q", i, buf.String(), plain.String(), original.String())
		}
	}
	var buf bytes.Buffer
	buf.Grow(1 << 10)
	if allocs := testing.AllocsPerRun(100, func() {
		buf.Reset()
		for _, m := range twins {
			m.MarshalGQL(&buf)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations a run, want none", allocs)
	}
}
