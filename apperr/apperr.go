// Package apperr defines CONNECTME's typed application errors. The business code in
// resolvers/ returns them; each surface maps a Code to its own shape in one place
// (rest/errors.go for HTTP statuses, resolvers/gql/errors.go for GraphQL codes).
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an application error.
type Code string

// The application error codes. The GraphQL extensions.code of each is its name,
// except Invalid, which GraphQL calls BAD_USER_INPUT.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	Invalid         Code = "BAD_USER_INPUT"
	WindowClosed    Code = "WINDOW_CLOSED"
	Conflict        Code = "CONFLICT"
	TooLarge        Code = "PAYLOAD_TOO_LARGE"
	QuotaExceeded   Code = "QUOTA_EXCEEDED"
	RateLimited     Code = "RATE_LIMITED"
	// CursorExpired is a cursor of the event log older than its retention: the
	// client refetches its lists and starts again from the head.
	CursorExpired Code = "CURSOR_EXPIRED"
	Unavailable   Code = "UNAVAILABLE"
	Internal      Code = "INTERNAL"
)

// Error is an error a client may see: its Message is safe to show.
type Error struct {
	Code    Code
	Message string
	// Details lists every validation failure, one clear sentence each, for Invalid.
	Details []string
	// RetryAfter is how long a RateLimited client waits before its next attempt is
	// allowed (REST Retry-After, GraphQL extensions.retryAfter).
	RetryAfter time.Duration
	// WindowClosedAt is when the conversation's 24-hour window closed, for
	// WindowClosed (nil when it never opened; GraphQL extensions.windowClosedAt).
	WindowClosedAt *time.Time
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up (a client that waits
// that long is allowed), at least 1.
func (e *Error) RetryAfterSeconds() int {
	return max(1, int((e.RetryAfter+time.Second-1)/time.Second))
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New returns an Error with the given code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns a validation error with one detail.
func Invalidf(format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: Invalid, Message: msg, Details: []string{msg}}
}

// Validation collects validation failures; Err returns nil when there are none.
type Validation struct{ details []string }

// Addf records one failure.
func (v *Validation) Addf(format string, args ...any) {
	v.details = append(v.details, fmt.Sprintf(format, args...))
}

// Err returns the collected failures as one Invalid error, or nil.
func (v *Validation) Err() error {
	if len(v.details) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: v.details[0], Details: v.details}
}

// As returns err's application error, or nil when err is not one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns err's code, Internal for any error that is not an application error.
func CodeOf(err error) Code {
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}
