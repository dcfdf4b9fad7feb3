package gqlexec

import (
	"bytes"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// The scalars of a field read from a struct field (cmd/gqlgen's direct path), as
// marshalers that cost no allocation. gqlgen's graphql.MarshalString(s) and
// MarshalInt(i) return a closure holding a copy of the value: one allocation per
// field of every object of an answer, the largest single share of a page's. StringAt
// and IntAt instead point at the struct field itself (a pointer fits in an
// interface as it is) and read it when the answer is written, once every field has
// resolved and before the request ends. That is the same value: what a resolver
// hands the executor (a row it loaded, an event it was given) is not changed
// afterwards, by us or by anything else (the race detector would see it in the
// tests otherwise).
//
// They write exactly what gqlgen's marshalers write (scalars_test.go holds the two
// side by side, a fuzz target for strings).

// StringAt is graphql.MarshalString(*s), read when written.
func StringAt(s *string) graphql.Marshaler { return (*stringAt)(s) }

type stringAt string

func (s *stringAt) MarshalGQL(w io.Writer) {
	v := string(*s)
	if b, ok := w.(*bytes.Buffer); ok {
		b.Grow(len(v) + 2)
		_, _ = b.Write(AppendQuoted(b.AvailableBuffer(), v))
		return
	}
	_, _ = w.Write(AppendQuoted(nil, v))
}

// IntAt is graphql.MarshalInt(*i), read when written.
func IntAt(i *int) graphql.Marshaler { return (*intAt)(i) }

type intAt int

func (i *intAt) MarshalGQL(w io.Writer) {
	if b, ok := w.(*bytes.Buffer); ok {
		b.Grow(20)
		_, _ = b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(*i), 10))
		return
	}
	_, _ = io.WriteString(w, strconv.Itoa(int(*i)))
}

// Bool is graphql.MarshalBoolean(v) without its closure: one of two values.
func Bool(v bool) graphql.Marshaler {
	if v {
		return boolTrue
	}
	return boolFalse
}

var boolTrue, boolFalse graphql.Marshaler = literal("true"), literal("false")

type literal string

func (l literal) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, string(l)) }

const hexDigits = "0123456789ABCDEF"

// AppendQuoted appends s as a JSON string the way gqlgen writes one
// (graphql.MarshalString): a control character, a backslash and a double quote
// escaped — tab, carriage return and newline by their letter, the others as
// \u00XX with capital hex digits — and every other byte as it is, invalid UTF-8
// included. Escaping bytes, not runes, gives the same: every byte of a multi-byte
// UTF-8 sequence is 0x80 or above.
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\', '"':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
