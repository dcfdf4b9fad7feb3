package gql

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/scalar"
)

// graphQLCode is the one table from application error codes to GraphQL codes.
var graphQLCode = map[apperr.Code]string{
	apperr.Unauthenticated: "UNAUTHENTICATED",
	apperr.Forbidden:       "FORBIDDEN",
	apperr.NotFound:        "NOT_FOUND",
	apperr.Invalid:         "BAD_USER_INPUT",
	apperr.WindowClosed:    "WINDOW_CLOSED",
	apperr.Conflict:        "CONFLICT",
	apperr.TooLarge:        "BAD_USER_INPUT",
	apperr.QuotaExceeded:   "QUOTA_EXCEEDED",
	apperr.RateLimited:     "RATE_LIMITED",
	apperr.CursorExpired:   "CURSOR_EXPIRED",
	apperr.Unavailable:     "UNAVAILABLE",
	apperr.Internal:        "INTERNAL",
}

// PresentError is gqlgen's error presenter: application errors keep their message
// and get extensions.code; a database that cannot be reached is UNAVAILABLE;
// anything else is logged with the request id and reaches the client as INTERNAL
// with no detail.
func (r *Resolver) PresentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = apperr.New(apperr.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	}
	if apperr.As(err) == nil && db.IsUnavailable(err) {
		// An outage, not a bug: a warning, and a code clients can retry on.
		if r.Log != nil {
			r.Log.WarnContext(ctx, "database unavailable", "err", err.Error(), "path", gqlErr.Path.String())
		}
		err = apperr.New(apperr.Unavailable, "the service is temporarily unavailable; try again shortly")
	}
	if e := apperr.As(err); e != nil {
		gqlErr.Message = e.Message
		ext := map[string]any{"code": graphQLCode[e.Code]}
		if len(e.Details) > 1 {
			ext["details"] = e.Details
		}
		switch e.Code {
		case apperr.RateLimited:
			ext["retryAfter"] = e.RetryAfterSeconds()
		case apperr.WindowClosed:
			// null when the contact never wrote (the window never opened).
			var closed any
			if e.WindowClosedAt != nil {
				closed = scalar.FormatTime(*e.WindowClosedAt)
			}
			ext["windowClosedAt"] = closed
		case apperr.Unauthenticated:
			if reason := auth.Refusal(ctx); reason != "" {
				ext["reason"] = reason
			}
		}
		gqlErr.Extensions = ext
		return gqlErr
	}
	// Errors gqlgen itself raised (parse, validation, argument coercion) carry their
	// own code or are the client's fault.
	var parsed *gqlerror.Error
	if errors.As(err, &parsed) && parsed.Err == nil {
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = "BAD_USER_INPUT"
		}
		return gqlErr
	}
	if r.Log != nil {
		r.Log.ErrorContext(ctx, "graphql resolver failed", "err", err.Error(), "path", gqlErr.Path.String())
	}
	gqlErr.Message = "internal server error"
	gqlErr.Extensions = map[string]any{"code": "INTERNAL"}
	return gqlErr
}

// RecoverPanic turns a resolver panic into an INTERNAL error, logged with the stack;
// the client sees neither the panic nor the stack.
func (r *Resolver) RecoverPanic(ctx context.Context, p any) error {
	if r.Log != nil {
		r.Log.ErrorContext(ctx, "graphql resolver panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	}
	return apperr.New(apperr.Internal, "internal server error")
}
