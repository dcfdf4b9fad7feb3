// Package strictjson refuses JSON that encoding/json accepts but silently changes:
// text that is not valid UTF-8 (bytes, or \u escapes of unpaired surrogates) is
// decoded as U+FFFD, and of two members of one object with the same name the last
// wins. A form with the same bytes is refused, and what a client meant is unknowable,
// so request bodies with either are refused whole.
package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned for a document with text that is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("the JSON text is not valid UTF-8")

// DuplicateKeyError names a member given twice in one object.
type DuplicateKeyError struct{ Key string }

func (e *DuplicateKeyError) Error() string {
	key := e.Key
	if utf8.RuneCountInString(key) > 64 {
		key = string([]rune(key)[:64]) + "…"
	}
	return fmt.Sprintf("the JSON member %q is given twice in one object", key)
}

// maxDepth bounds the nesting Check follows; encoding/json refuses deeper documents
// (10,000 levels) anyway.
const maxDepth = 10000

// Check reports invalid UTF-8 or a member name given twice in one object, at any
// depth. It does not check the syntax otherwise (the decoder that runs next does):
// on a malformed document it returns nil or one of its own errors.
func Check(data []byte) error {
	if !utf8.Valid(data) {
		return ErrInvalidUTF8
	}
	// One entry per open object or array; an array's is nil. Sets are made on the
	// first member, so empty objects and arrays cost nothing.
	var stack []map[string]struct{}
	isObject := []bool{}
	expectKey := false
	for i := 0; i < len(data); {
		switch data[i] {
		case '{', '[':
			if len(stack) >= maxDepth {
				return nil
			}
			stack = append(stack, nil)
			isObject = append(isObject, data[i] == '{')
			expectKey = data[i] == '{'
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack, isObject = stack[:len(stack)-1], isObject[:len(isObject)-1]
			}
			expectKey = false
			i++
		case ',':
			expectKey = len(isObject) > 0 && isObject[len(isObject)-1]
			i++
		case '"':
			end, escaped, err := scanString(data, i)
			if err != nil {
				return err
			}
			if expectKey {
				key, ok := memberName(data[i:end], escaped)
				if !ok {
					return nil // malformed: the decoder says so
				}
				top := &stack[len(stack)-1]
				if _, dup := (*top)[key]; dup {
					return &DuplicateKeyError{Key: key}
				}
				if *top == nil {
					*top = map[string]struct{}{}
				}
				(*top)[key] = struct{}{}
				expectKey = false
			}
			i = end
		default:
			i++
		}
	}
	return nil
}

// memberName decodes a quoted member name.
func memberName(quoted []byte, escaped bool) (string, bool) {
	if len(quoted) < 2 {
		return "", false
	}
	if !escaped {
		return string(quoted[1 : len(quoted)-1]), true
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", false
	}
	return s, true
}

// scanString returns the index just past the string starting at data[start] (a
// quote) and whether it holds escapes. An escape of a surrogate that is not half of
// a pair is ErrInvalidUTF8. An unterminated string ends at the end of data.
func scanString(data []byte, start int) (end int, escaped bool, err error) {
	for j := start + 1; j < len(data); {
		switch data[j] {
		case '"':
			return j + 1, escaped, nil
		case '\\':
			escaped = true
			if j+1 < len(data) && data[j+1] == 'u' {
				r, ok := hex4(data, j+2)
				switch {
				case !ok:
					j += 2
					continue
				case r >= 0xDC00 && r <= 0xDFFF:
					return 0, false, ErrInvalidUTF8 // a low half with no high half before it
				case r >= 0xD800 && r <= 0xDBFF:
					low, ok := rune(0), j+7 < len(data) && data[j+6] == '\\' && data[j+7] == 'u'
					if ok {
						low, ok = hex4(data, j+8)
					}
					if !ok || low < 0xDC00 || low > 0xDFFF {
						return 0, false, ErrInvalidUTF8
					}
					j += 12
				default:
					j += 6
				}
				continue
			}
			j += 2
		default:
			j++
		}
	}
	return len(data), escaped, nil
}

// hex4 reads the four hex digits at data[at:].
func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
