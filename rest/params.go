package rest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/strictjson"
)

// checkJSON refuses a JSON body that encoding/json would accept but change (invalid
// UTF-8 stored as U+FFFD, a member given twice of which the last wins), as the same
// bytes in a form are refused.
func checkJSON(raw []byte) error {
	if err := strictjson.Check(raw); err != nil {
		if errors.Is(err, strictjson.ErrInvalidUTF8) {
			return apperr.Invalidf("request body must be valid UTF-8 (unpaired surrogate escapes included)")
		}
		return apperr.Invalidf("request body: %s", err)
	}
	return nil
}

// pageParams reads page and limit: integers in resolvers.ValidatePage's ranges. Missing
// ones default to page 1 and limit 20; anything else is a 400 naming the field.
func pageParams(r *http.Request) (int, int, error) {
	var v apperr.Validation
	read := func(name string, def int) int {
		s, ok := r.URL.Query()[name]
		if !ok {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil {
			v.Addf("%s must be an integer number", name)
			return def
		}
		return n
	}
	page, limit := read("page", 1), read("limit", 20)
	if err := v.Err(); err != nil {
		return 0, 0, err
	}
	// The range rules are the resolvers' (the REST handlers call them with these
	// values); checking here as well answers before any other work is done.
	if _, err := resolvers.ValidatePage(page, limit); err != nil {
		return 0, 0, err
	}
	return page, limit, nil
}

// pathID reads a numeric id from the path.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := parseID(chi.URLParam(r, name))
	if !ok {
		return 0, apperr.Invalidf("%s must be a positive integer id", name)
	}
	return id, nil
}

// pathText reads a free-text path parameter. chi routes on the escaped path when the
// request has one (it contains an escape such as %2F) and its parameters are then
// still escaped; otherwise they are already decoded and must not be decoded again
// (a term "%41" is not "A").
func pathText(r *http.Request, name string) (string, error) {
	s := chi.URLParam(r, name)
	if r.URL.RawPath == "" {
		return s, nil
	}
	u, err := url.PathUnescape(s)
	if err != nil {
		return "", apperr.Invalidf("%s is not a valid path segment", name)
	}
	return u, nil
}

// parseID reads a positive id written with decimal digits only: strconv alone would
// also take a sign ("+5").
func parseID(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
