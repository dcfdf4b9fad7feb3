package scalar

import (
	"bytes"
	"testing"
	"time"
)

func TestMarshalTime_ThreeFractionalDigitsInUTC(t *testing.T) {
	colombo := time.FixedZone("+0530", 5*3600+1800)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), `"2026-01-02T03:04:05.000Z"`},
		{time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.UTC), `"2026-01-02T03:04:05.120Z"`},
		{time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.UTC), `"2026-01-02T03:04:05.123Z"`},
		{time.Date(2026, 1, 2, 8, 34, 5, 999_999_999, colombo), `"2026-01-02T03:04:05.999Z"`},
	} {
		var b bytes.Buffer
		MarshalTime(c.in).MarshalGQL(&b)
		if b.String() != c.want {
			t.Errorf("%v: %s, want %s", c.in, b.String(), c.want)
		}
	}
}

func TestUnmarshalTime_AcceptsRFC3339(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, in := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z", "2026-01-02T08:34:05+05:30", "2026-01-02T03:04:05.000000000Z"} {
		got, err := UnmarshalTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []any{"2026-01-02", "yesterday", "2026-01-02 03:04:05Z", 1767322800} {
		if _, err := UnmarshalTime(in); err == nil {
			t.Errorf("%v accepted", in)
		}
	}
}
