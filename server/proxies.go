package server

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are examined; real
// chains of proxies are a handful long.
const maxForwardedHops = 32

// clientAddress records the client's address (without port) for rate limits and
// per-address caps. From a peer in TRUSTED_PROXIES, the client is the right-most
// X-Forwarded-For entry that is not itself a trusted proxy (entries left of it were
// written by the client and prove nothing); from any other peer X-Forwarded-For is
// ignored, so that nobody can name another's address and use up its budget.
func clientAddress(cfg *config.Config, log *slog.Logger) func(http.Handler) http.Handler {
	trusted := cfg.TrustedProxies
	if cfg.IsProduction() && len(trusted) == 0 && log != nil {
		log.Warn("TRUSTED_PROXIES is not set: X-Forwarded-For is ignored, so behind a load balancer every client " +
			"has the balancer's address and all share one login rate limit; set TRUSTED_PROXIES to the balancer's CIDRs")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			addr := clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
			next.ServeHTTP(w, r.WithContext(auth.WithClientAddr(r.Context(), addr)))
		})
	}
}

// clientIP is the client's address of a request from the peer remoteAddr (host:port)
// carrying the X-Forwarded-For header lines xff.
func clientIP(remoteAddr string, xff []string, trusted []netip.Prefix) string {
	peer, ok := parseHop(remoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			return remoteAddr
		}
		return host
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	client, hops := peer, 0
	for i := len(xff) - 1; i >= 0; i-- {
		entries := strings.Split(xff[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			if hops++; hops > maxForwardedHops {
				return client.String()
			}
			a, ok := parseHop(entries[j])
			if !ok {
				// Not an address: nothing left of it can be believed; the last hop
				// that could is the best answer.
				return client.String()
			}
			if client = a; !isTrusted(a, trusted) {
				return a.String()
			}
		}
	}
	// Every hop is a trusted proxy: the request began at the left-most.
	return client.String()
}

// parseHop reads an address as proxies write them: bare, with a port, or bracketed.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
