package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
)

// IsUnavailable reports whether err means the database cannot be reached or cannot
// serve right now (connection refused, reset or cut, a dial or call that timed out,
// the server shutting down, starting up or out of connections), as opposed to a
// query that is wrong. Each surface turns such errors into its 503 / UNAVAILABLE, and
// the background workers pause on them instead of counting them as failures.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		switch {
		case strings.HasPrefix(code, "08"), // connection_exception
			strings.HasPrefix(code, "53"), // insufficient_resources (too many connections, disk full)
			code == "57P01",               // admin_shutdown
			code == "57P02",               // crash_shutdown
			code == "57P03":               // cannot_connect_now (starting up, in recovery)
			return true
		}
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		// Our own deadline on a database call (REQUEST_TIMEOUT or a worker's): the
		// database did not answer in time. A client that went away is Canceled.
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr):
		return true
	}
	return false
}
