package server

import (
	"errors"
	"net/http"

	"github.com/connectme/connectme/strictjson"
)

// strictGraphQLBody refuses a GraphQL request body that encoding/json would accept
// but change: invalid UTF-8 (decoded as U+FFFD and stored so) or a member given
// twice (the last silently wins), at any depth. It reports false when it has
// answered the request.
func strictGraphQLBody(w http.ResponseWriter, body []byte) bool {
	err := strictjson.Check(body)
	if err == nil {
		return true
	}
	msg := "the request body: " + err.Error()
	if errors.Is(err, strictjson.ErrInvalidUTF8) {
		msg = "the request body must be valid UTF-8 (unpaired surrogate escapes included)"
	}
	writeGraphQLError(w, http.StatusBadRequest, msg, "BAD_USER_INPUT")
	return false
}
