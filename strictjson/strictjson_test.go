package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      string // "", "utf8" or the duplicated key
	}{
		{"plain object", `{"a":1,"b":"x","c":[1,2,{"a":1}]}`, ""},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}`, ""},
		{"a value equal to a key", `{"a":"a","b":["a","a"]}`, ""},
		{"empty containers", `{"a":{},"b":[],"c":[[],{}]}`, ""},
		{"escaped quote in key", `{"a\"b":1,"a":2}`, ""},
		{"surrogate pair", `{"s":"\ud83d\ude00"}`, ""},
		{"non-ASCII text", `{"s":"Grüße 😀"}`, ""},
		{"top-level duplicate", `{"email":"a","email":"b"}`, "email"},
		{"duplicate after an array", `{"a":[1,{"x":1}],"a":2}`, "a"},
		{"nested duplicate", `{"a":{"b":{"c":1,"c":2}}}`, "c"},
		{"duplicate in an array's object", `{"a":[1,{"k":1,"k":2}]}`, "k"},
		{"deep duplicate", `[[[[{"x":[{"y":{"z":1,"z":1}}]}]]]]`, "z"},
		{"duplicate spelt with an escape", `{"email":"a","em\u0061il":"b"}`, "email"},
		{"invalid byte in a value", "{\"s\":\"a\xffb\"}", "utf8"},
		{"invalid byte in a key", "{\"a\xc3\":1}", "utf8"},
		{"truncated sequence deep", "{\"a\":[{\"b\":\"\xe2\x82\"}]}", "utf8"},
		{"lone high surrogate", `{"s":"\ud800"}`, "utf8"},
		{"lone high surrogate before text", `{"s":"\ud800abcdef"}`, "utf8"},
		{"lone low surrogate", `{"s":"\udc00"}`, "utf8"},
		{"reversed pair", `{"s":"\ude00\ud83d"}`, "utf8"},
		{"high then non-surrogate escape", `{"s":"\ud800\u0041"}`, "utf8"},
		{"lone surrogate in a key", `{"\ud800":1}`, "utf8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.doc))
			var dup *DuplicateKeyError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want == "utf8" && !errors.Is(err, ErrInvalidUTF8):
				t.Errorf("got %v, want invalid UTF-8", err)
			case tc.want != "" && tc.want != "utf8" && (!errors.As(err, &dup) || dup.Key != tc.want):
				t.Errorf("got %v, want duplicate %q", err, tc.want)
			}
			if tc.want == "" && !json.Valid([]byte(tc.doc)) {
				t.Errorf("test document is not JSON")
			}
		})
	}
}

// hasDuplicate is a slow reference: it walks the decoder's tokens, which hold the
// decoded member names.
func hasDuplicate(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys   map[string]bool
		object bool
		isKey  bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				if top != nil && top.object {
					top.isKey = true
				}
				stack = append(stack, &frame{keys: map[string]bool{}, object: v == '{', isKey: true})
			} else {
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.isKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.isKey = false
				continue
			}
		}
		if top != nil && top.object {
			top.isKey = true
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"a":[{"b":"\ud83d\ude00"}],"c":{}}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"a":{"b":[1,{"c":1,"\u0063":2}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data) // must not panic, whatever the input
		if !json.Valid(data) {
			return
		}
		var dup *DuplicateKeyError
		isDup := errors.As(err, &dup)
		ref := hasDuplicate(data)
		if isDup && !ref {
			t.Errorf("Check found a duplicate %q the decoder does not see in %q", dup.Key, data)
		}
		if err == nil && ref {
			t.Errorf("Check missed a duplicate in %q", data)
		}
	})
}
