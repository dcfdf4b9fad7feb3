package scalar

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"testing"

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
