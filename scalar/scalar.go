// Package scalar holds the Go side of CONNECTME's custom GraphQL scalar mappings.
package scalar

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/connectme/connectme/apperr"
)

// MarshalInt64ID writes a numeric database id as a GraphQL ID (a string).
func MarshalInt64ID(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [22]byte // a quoted int64
		b := strconv.AppendInt(append(buf[:0], '"'), id, 10)
		_, _ = w.Write(append(b, '"'))
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
func MarshalMessageID(id uuid.UUID) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [2 + 2*len(uuid.UUID{})]byte
		buf[0], buf[len(buf)-1] = '"', '"'
		hex.Encode(buf[1:len(buf)-1], id[:])
		_, _ = w.Write(buf[:])
	})
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
