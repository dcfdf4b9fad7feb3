package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy says which URLs an endpoint may have.
type Policy struct {
	// AllowPrivate lets endpoints resolve to loopback, private, link-local and other
	// non-public addresses (tests, on-premise set-ups), and use http.
	AllowPrivate bool
	// RequireHTTPS refuses http URLs (production), unless AllowPrivate.
	RequireHTTPS bool
}

// ErrForbiddenAddress is the error of a connection refused by the address rule.
var ErrForbiddenAddress = errors.New("the address is not a public one")

// nonPublic are the ranges an endpoint may not reach unless AllowPrivate, beyond
// what netip.Addr's own predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// PublicAddr reports whether a is an address an endpoint may be reached at:
// not loopback, private (RFC 1918, IPv6 ULA), link-local, unspecified, multicast,
// CGNAT or reserved; an IPv4-mapped IPv6 address is judged as its IPv4 address.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// control is the dialer's check of the address actually dialled, after DNS: a
// name that resolves to a public address when saved and to a private one when
// used (DNS rebinding) is refused here.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// Dialer returns a dialer that refuses non-public addresses under p.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Control: p.control}
}

// CheckURL validates an endpoint URL when it is saved: absolute http(s), https
// when required, no credentials, and a host that resolves only to public addresses
// (unless AllowPrivate). The answer is a sentence for the user, or "".
func (p Policy) CheckURL(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "url must be an absolute http or https URL"
	}
	if u.Scheme != "https" && p.RequireHTTPS && !p.AllowPrivate {
		return "url must use https"
	}
	if u.User != nil {
		return "url must not carry credentials"
	}
	if len(raw) > 2048 {
		return "url must be at most 2048 characters"
	}
	if p.AllowPrivate {
		return ""
	}
	host := strings.Trim(u.Hostname(), "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		if !PublicAddr(a) {
			return "url must not point to a loopback, private or link-local address"
		}
		return ""
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "url's host does not resolve"
	}
	for _, a := range addrs {
		if !PublicAddr(a) {
			return "url must not point to a loopback, private or link-local address"
		}
	}
	return ""
}
