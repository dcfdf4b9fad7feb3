// Package scalar holds the Go side of CONNECTME's custom GraphQL scalar mappings.
package scalar

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/connectme/connectme/apperr"
)

// MarshalInt64ID writes a numeric database id as a GraphQL ID (a string).
func MarshalInt64ID(id int64) graphql.Marshaler { return Int64IDAt(&id) }

// Int64IDAt is MarshalInt64ID(*id), read when the answer is written (see
// gqlexec.StringAt: the direct path of a struct field points at it).
func Int64IDAt(id *int64) graphql.Marshaler { return (*int64IDAt)(id) }

type int64IDAt int64

func (id *int64IDAt) MarshalGQL(w io.Writer) {
	writeAppended(w, 22, func(b []byte) []byte { // a quoted int64
		return append(strconv.AppendInt(append(b, '"'), int64(*id), 10), '"')
	})
}

// UnmarshalInt64ID reads a GraphQL ID that must be a positive integer.
func UnmarshalInt64ID(v any) (int64, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	default:
		return 0, apperr.Invalidf("an id must be a string of digits, not a %T", v)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Invalidf("%q is not an id", s)
	}
	return id, nil
}

// MarshalMessageID writes a message id as 32 lowercase hex characters.
func MarshalMessageID(id uuid.UUID) graphql.Marshaler { return MessageIDAt(&id) }

// MessageIDAt is MarshalMessageID(*id), read when the answer is written.
func MessageIDAt(id *uuid.UUID) graphql.Marshaler { return (*messageIDAt)(id) }

type messageIDAt uuid.UUID

func (id *messageIDAt) MarshalGQL(w io.Writer) {
	writeAppended(w, 2+hex.EncodedLen(len(id)), func(b []byte) []byte {
		b = append(b, '"')
		b = hex.AppendEncode(b, id[:])
		return append(b, '"')
	})
}

// writeAppended writes what appendTo appends, at most n bytes: into the free
// end of the buffer gqlgen's executor writes an answer into, without copying or
// allocating.
func writeAppended(w io.Writer, n int, appendTo func([]byte) []byte) {
	if b, ok := w.(*bytes.Buffer); ok {
		b.Grow(n)
		_, _ = b.Write(appendTo(b.AvailableBuffer()))
		return
	}
	_, _ = w.Write(appendTo(make([]byte, 0, n)))
}

// UnmarshalMessageID reads a message id given as 32 hex characters (or a dashed UUID).
func UnmarshalMessageID(v any) (uuid.UUID, error) {
	s, ok := v.(string)
	if !ok {
		return uuid.Nil, apperr.Invalidf("a message id must be a string, not a %T", v)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, apperr.Invalidf("%q is not a message id", s)
	}
	return id, nil
}

// MarshalUpload is never used for output (Upload is an input-only scalar).
func MarshalUpload(u graphql.Upload) graphql.Marshaler { return graphql.MarshalUpload(u) }

// UnmarshalUpload reads an uploaded file; anything else is the client's mistake.
func UnmarshalUpload(v any) (graphql.Upload, error) {
	u, ok := v.(graphql.Upload)
	if !ok {
		return graphql.Upload{}, apperr.Invalidf("file must be an uploaded file (a multipart request), not a %T", v)
	}
	return u, nil
}
