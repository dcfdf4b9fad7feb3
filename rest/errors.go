package rest

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
)

// errorBody is the NestJS error shape legacy clients parse.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"`
	Error      string `json:"error,omitempty"`
}

// statusOf is the one table from application error codes to HTTP statuses.
var statusOf = map[apperr.Code]int{
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Invalid:         http.StatusBadRequest,
	apperr.WindowClosed:    http.StatusUnprocessableEntity,
	apperr.Conflict:        http.StatusConflict,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.QuotaExceeded:   http.StatusRequestEntityTooLarge,
	apperr.RateLimited:     http.StatusTooManyRequests,
	apperr.CursorExpired:   http.StatusBadRequest,
	apperr.Unavailable:     http.StatusServiceUnavailable,
	apperr.Internal:        http.StatusInternalServerError,
}

// RetryAfterSeconds is the Retry-After of a 503: long enough for a restarting
// database or a burst to pass, short enough that clients come back soon.
const RetryAfterSeconds = "5"

// unavailableMessage is what a client is told while the database cannot be reached.
const unavailableMessage = "the service is temporarily unavailable; try again shortly"

// WriteError writes err in the NestJS shape. A database that cannot be reached is a
// 503 with Retry-After (logged as a warning: it is an outage, not a bug). Other
// errors that are not application errors are logged with the request id and reach
// the client as a bare 500.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = apperr.New(apperr.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	}
	if apperr.As(err) == nil && db.IsUnavailable(err) {
		if log != nil {
			log.WarnContext(r.Context(), "database unavailable", "err", err.Error(), "method", r.Method, "path", r.URL.Path)
		}
		err = apperr.New(apperr.Unavailable, unavailableMessage)
	}
	e := apperr.As(err)
	if e != nil && e.Code == apperr.Unavailable {
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	if e != nil && e.Code == apperr.RateLimited {
		// Every 429 says when to come back, so clients wait instead of hammering.
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds()))
	}
	if e == nil {
		if log != nil {
			log.ErrorContext(r.Context(), "request failed", "err", err.Error(), "method", r.Method, "path", r.URL.Path)
		}
		e = apperr.New(apperr.Internal, "Internal server error")
	}
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	body := errorBody{StatusCode: status, Message: e.Message, Error: statusText(status)}
	switch e.Code {
	case apperr.Unauthenticated:
		// The body stays exactly the legacy one; the reason a token was refused
		// goes in RFC 6750's header.
		if reason := auth.Refusal(r.Context()); reason != "" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+reason+`"`)
		}
		body = errorBody{StatusCode: status, Message: "Unauthorized"}
	case apperr.Invalid:
		details := e.Details
		if len(details) == 0 {
			details = []string{e.Message}
		}
		body.Message = details
	}
	writeJSON(w, status, body)
}

// statusText is the reason phrase NestJS puts in "error"; Go names 413 by its older
// RFC 2616 phrase.
func statusText(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "Payload Too Large"
	}
	return http.StatusText(status)
}

// NotFoundHandler answers unknown paths in the NestJS shape.
func NotFoundHandler(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, errorBody{
		StatusCode: http.StatusNotFound,
		Message:    "Cannot " + r.Method + " " + r.URL.Path,
		Error:      "Not Found",
	})
}

// MethodNotAllowedHandler answers a known path with the wrong method, naming the
// methods the path has in Allow (RFC 9110 requires it on a 405).
func MethodNotAllowedHandler(w http.ResponseWriter, r *http.Request) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
	}
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{
		StatusCode: http.StatusMethodNotAllowed,
		Message:    "Cannot " + r.Method + " " + r.URL.Path,
		Error:      "Method Not Allowed",
	})
}
