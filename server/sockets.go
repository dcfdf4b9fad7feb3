package server

import (
	"context"
	"sync"
)

// SocketGroup tracks this instance's open websockets so that a shutdown can wait
// for their close handshakes: a socket is hijacked from net/http, so
// http.Server.Shutdown neither closes nor waits for it, and a process that exits
// while a close frame is still being written cuts the connection without one.
//
// Once Drain has been called the group admits no new socket: an upgrade that
// arrives while the instance shuts down is refused with 503 (a proxy retries it on
// another instance), so no socket is accepted that nobody would close.
type SocketGroup struct {
	mu       sync.Mutex
	n        int
	draining bool
	idle     chan struct{} // closed when n drops to 0 while draining
}

// NewSocketGroup returns an empty group.
func NewSocketGroup() *SocketGroup { return &SocketGroup{idle: make(chan struct{})} }

// add admits one socket, unless the group is draining.
func (g *SocketGroup) add() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.draining {
		return false
	}
	g.n++
	return true
}

// done ends one socket that add admitted.
func (g *SocketGroup) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 && g.draining {
		close(g.idle)
	}
}

// Open returns how many sockets are open.
func (g *SocketGroup) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Drain stops admitting sockets and waits until every open one has ended (the
// caller has asked them to close) or ctx ends; it returns how many were still open
// then. Calling it again waits again.
func (g *SocketGroup) Drain(ctx context.Context) int {
	g.mu.Lock()
	if !g.draining {
		g.draining = true
		if g.n == 0 {
			close(g.idle)
		}
	}
	g.mu.Unlock()
	select {
	case <-g.idle:
		return 0
	case <-ctx.Done():
		return g.Open()
	}
}
