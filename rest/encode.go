package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/connectme/connectme/apperr"
)

// legacyTimeLayout is JavaScript's toISOString(): UTC, three fractional digits, Z.
const legacyTimeLayout = "2006-01-02T15:04:05.000Z"

// Time is a timestamp in the legacy encoding; the zero value and nil encode as null.
type Time struct{ t *time.Time }

// T wraps a time for legacy encoding.
func T(t time.Time) Time { return Time{&t} }

// TP wraps an optional time for legacy encoding.
func TP(t *time.Time) Time { return Time{t} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.t == nil || t.t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.t.UTC().Format(legacyTimeLayout) + `"`), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"statusCode":500,"message":"Internal server error","error":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// body is a decoded JSON object whose fields are read one by one, so that every
// wrong or missing field gets its own validation message that names it.
type body struct {
	fields map[string]json.RawMessage
	v      apperr.Validation
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 1 << 20

// decodeBody reads a JSON object. Anything else is a 400; a body over the limit 413.
func decodeBody(w http.ResponseWriter, r *http.Request) (*body, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, apperr.Invalidf("Content-Type must be application/json")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, apperr.Invalidf("request body could not be read")
	}
	if err := checkJSON(raw); err != nil {
		return nil, err
	}
	b := &body{}
	if err := json.Unmarshal(raw, &b.fields); err != nil || b.fields == nil {
		return nil, apperr.Invalidf("request body must be a JSON object")
	}
	return b, nil
}

// String reads a string field; required fields must be present and non-empty.
func (b *body) String(name string, required bool) *string {
	raw, ok := b.fields[name]
	if !ok || string(raw) == "null" {
		if required {
			b.v.Addf("%s should not be empty", name)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.v.Addf("%s must be a string", name)
		return nil
	}
	if required && strings.TrimSpace(s) == "" {
		b.v.Addf("%s should not be empty", name)
		return nil
	}
	return &s
}

// ID reads a numeric id given as a JSON number or a string of digits.
func (b *body) ID(name string, required bool) *int64 {
	raw, ok := b.fields[name]
	if !ok || string(raw) == "null" {
		if required {
			b.v.Addf("%s should not be empty", name)
		}
		return nil
	}
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			s = ""
		}
	}
	id, ok := parseID(s)
	if !ok {
		b.v.Addf("%s must be a positive integer id", name)
		return nil
	}
	return &id
}

// Strings reads a list of strings.
func (b *body) Strings(name string) []string {
	raw, ok := b.fields[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		b.v.Addf("%s must be an array of strings", name)
		return nil
	}
	return out
}

// Err returns the validation failures collected while reading fields.
func (b *body) Err() error { return b.v.Err() }

// Str returns *s, or "" when s is nil.
func Str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
