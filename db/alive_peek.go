//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package db

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection is still open: a non-blocking peek at its
// socket finds nothing to read. End of file means the server (or something between
// us) closed it; unexpected bytes on an idle connection are almost always the
// FATAL message PostgreSQL sends as it shuts down. Either way the connection must
// not carry the next query.
func alive(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ok = true
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, the healthy idle case. Anything else (end of file,
		// bytes, a socket error) retires the connection.
		ok = errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) || errors.Is(rerr, syscall.EINTR)
		// Never wait for the socket to become readable: this is a peek, not a read.
		return true
	})
	return ok && err == nil
}
