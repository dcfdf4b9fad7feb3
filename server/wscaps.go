package server

import (
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/connectme/connectme/config"
)

// wsRetryAfter is the Retry-After of a refused websocket: sockets stay open for
// hours, so a client retrying at once would only be refused again.
const wsRetryAfter = "30"

// errTooManySockets refuses a connection_init whose agent has all its sockets
// open already; the socket is closed with closeTooManyInits (4429).
var errTooManySockets = errors.New("too many sockets for this agent")

// wsCaps caps the websockets open on this instance per client address
// (WS_MAX_PER_ADDR) and per agent (WS_MAX_PER_AGENT). They are per instance: behind
// a load balancer a client may hold the cap on each instance.
//
// The address is known at the upgrade, so a socket over the address cap is refused
// there with HTTP 429 (Retry-After), before anything is allocated for it. The
// agent, in the protocols' usual way, is only known at connection_init, where the
// token travels: the socket is counted for its agent then, and one over the cap is
// closed with 4429. A client that sends its token at the upgrade as well (an
// Authorization header, which non-browser clients can set) is refused with HTTP 429
// at the upgrade, as the contract asks. Tokens in the URL (?token=) are not
// accepted: URLs end up in proxies' access logs.
type wsCaps struct {
	agents *capped[int64]
	addrs  *capped[string]
}

func newWSCaps(c *config.Config) *wsCaps {
	return &wsCaps{agents: newCapped[int64](c.WSMaxPerAgent), addrs: newCapped[string](c.WSMaxPerAddr)}
}

// acquireAddr counts a socket for addr; false when the address has all its sockets.
func (c *wsCaps) acquireAddr(addr string) bool { return c == nil || c.addrs.acquire(addr) }

// releaseAddr gives back a socket acquireAddr counted.
func (c *wsCaps) releaseAddr(addr string) {
	if c != nil {
		c.addrs.release(addr)
	}
}

// agentFull reports an agent with all its sockets open (the check at the upgrade;
// the socket is counted at connection_init).
func (c *wsCaps) agentFull(agent int64) bool { return c != nil && c.agents.full(agent) }

// acquireAgent counts a socket for agent; false when the agent has all its sockets.
func (c *wsCaps) acquireAgent(agent int64) bool { return c == nil || c.agents.acquire(agent) }

// releaseAgent gives back a socket acquireAgent counted.
func (c *wsCaps) releaseAgent(agent int64) {
	if c != nil {
		c.agents.release(agent)
	}
}

// refuseSocket answers an upgrade over a cap: 429 with Retry-After.
func refuseSocket(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", wsRetryAfter)
	writeGraphQLError(w, http.StatusTooManyRequests, msg, "RATE_LIMITED")
}

// refuseShuttingDown answers an upgrade that arrives once this instance has begun
// to shut down: 503, which a proxy retries on another instance (deploy/nginx).
func refuseShuttingDown(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close")
	writeGraphQLError(w, http.StatusServiceUnavailable, "this instance is shutting down; reconnect", "UNAVAILABLE")
}

// initCloseCode is the close code of a refused connection_init: 4429 for an agent
// with all its sockets open (back off, as HTTP 429 says), else 4403.
func initCloseCode(err error) websocket.StatusCode {
	if errors.Is(err, errTooManySockets) {
		return closeTooManyInits
	}
	return closeForbidden
}
