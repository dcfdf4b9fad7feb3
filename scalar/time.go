package scalar

import (
	"encoding/json"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/apperr"
)

// TimeLayout is how every Time leaves the API: UTC, exactly three fractional digits
// (milliseconds, truncated) and Z, as the REST layer writes them
// (2021-01-08T08:55:30.422Z).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// MarshalTime writes a Time in TimeLayout, as a JSON string.
func MarshalTime(t time.Time) graphql.Marshaler { return TimeAt(&t) }

// TimeAt is MarshalTime(*t), read when the answer is written.
func TimeAt(t *time.Time) graphql.Marshaler { return (*timeAt)(t) }

type timeAt time.Time

func (t *timeAt) MarshalGQL(w io.Writer) {
	writeAppended(w, len(TimeLayout)+2, func(b []byte) []byte {
		b = append(b, '"')
		b = time.Time(*t).UTC().AppendFormat(b, TimeLayout)
		return append(b, '"')
	})
}

// UnmarshalTime reads a Time given as an RFC 3339 string (any fractional digits,
// any offset).
func UnmarshalTime(v any) (time.Time, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return time.Time{}, apperr.Invalidf("a time must be an RFC 3339 string such as 2021-01-08T08:55:30.422Z, not a %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.Invalidf("%q is not an RFC 3339 time such as 2021-01-08T08:55:30.422Z", s)
	}
	return t, nil
}
