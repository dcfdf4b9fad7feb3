package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectme/connectme/apperr"
)

// FuzzDecodeBody feeds arbitrary bodies and Content-Types to the legacy JSON body
// reader and its field getters: nothing may panic, a refusal is a validation error
// (400) or an oversized body (413), never anything that would be a 500, and what the
// getters accept has the promised type (ids positive, required strings not blank).
func FuzzDecodeBody(f *testing.F) {
	f.Add("application/json", `{"to":"42","text":"hi","params":["a","b"],"templateId":7}`)
	f.Add("application/json; charset=utf-8", `{"to":42.5,"text":null,"params":"x"}`)
	f.Add("", `{"to":-1,"text":"   ","params":[1,{}]}`)
	f.Add("application/json", `{"to":"0042","text":"\u0000","params":null}`)
	f.Add("application/json", `{"to":"9223372036854775808","text":{"a":1}}`)
	f.Add("application/json", `{"to":1e3,"to":2}`)
	f.Add("application/json", `[1,2,3]`)
	f.Add("application/json", `null`)
	f.Add("text/plain", `{"to":1}`)
	f.Add("APPLICATION/JSON", "\xff\xfe{}")
	f.Add("application/json", `{"to":"`+strings.Repeat("9", 5000)+`"}`)
	f.Fuzz(func(t *testing.T, contentType, raw string) {
		r := httptest.NewRequest(http.MethodPost, "/message", strings.NewReader(raw))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		b, err := decodeBody(httptest.NewRecorder(), r)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if !errors.As(err, &tooLarge) {
				requireInvalid(t, err)
			}
			return
		}
		for _, name := range []string{"to", "templateId", "attachmentId", "userId"} {
			if id := b.ID(name, false); id != nil && *id <= 0 {
				t.Fatalf("%s accepted as %d", name, *id)
			}
		}
		if s := b.String("text", true); s != nil && strings.TrimSpace(*s) == "" {
			t.Fatalf("required text accepted blank: %q", *s)
		}
		_ = b.String("type", false)
		_ = b.Strings("params")
		if err := b.Err(); err != nil {
			requireInvalid(t, err)
		}
		if e := apperr.As(b.Err()); e != nil && len(e.Details) == 0 {
			t.Fatalf("validation error without details: %v", e)
		}
	})
}
