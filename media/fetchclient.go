package media

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// The fetcher's HTTP rules. The first URL must be on the provider's origin
// (Fetcher.allowed). The provider then redirects media to its storage (another host),
// so a redirect may leave that origin, but every hop is checked like the first URL:
// no user info, and off the provider's origin only https to a public address (checked
// again when the connection is dialled, so a name that resolves to 127.0.0.1 or the
// cloud metadata address is refused too). The credentials go only to the provider's
// origin: they are dropped for good as soon as a hop changes scheme, host or port.

// maxFetchRedirects bounds the hops of one download.
const maxFetchRedirects = 5

// ErrRedirectRefused is returned (wrapped in the client's *url.Error) when a redirect
// leads somewhere the fetcher must not go.
var ErrRedirectRefused = errors.New("media: redirect refused")

// fetchClients caches one client per provider base URL, so downloads share
// connections; Fetcher values are plain structs built by their callers.
var fetchClients sync.Map // APIBase -> *http.Client

// httpClient returns the client a download uses: the shared client for APIBase,
// which also checks the address of every connection it dials; or Client when set,
// given the redirect rules unless it brings its own (tests do).
func (f *Fetcher) httpClient() *http.Client {
	if f.Client != nil {
		if f.Client.CheckRedirect != nil {
			return f.Client
		}
		c := *f.Client
		c.CheckRedirect = redirectPolicy(f.APIBase, publicAddr)
		return &c
	}
	if c, ok := fetchClients.Load(f.APIBase); ok {
		return c.(*http.Client)
	}
	c, _ := fetchClients.LoadOrStore(f.APIBase, newFetchClient(f.APIBase, publicAddr, nil))
	return c.(*http.Client)
}

// newFetchClient returns a client for downloads from the provider at apiBase. addrOK
// decides which addresses a connection off the provider's origin may reach (public
// ones when nil); tlsConf, when not nil, replaces the default TLS settings.
func newFetchClient(apiBase string, addrOK func(netip.Addr) bool, tlsConf *tls.Config) *http.Client {
	if addrOK == nil {
		addrOK = publicAddr
	}
	trusted := map[string]bool{}
	// The transport takes its proxy from the environment, as http.DefaultClient did.
	for _, raw := range []string{apiBase, os.Getenv("HTTPS_PROXY"), os.Getenv("https_proxy"), os.Getenv("HTTP_PROXY"), os.Getenv("http_proxy")} {
		if raw != "" && !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			// The provider and an egress proxy the operator configured are dialled as
			// they are: they may well be on a private network.
			trusted[hostPort(u)] = true
		}
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsConf
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if trusted[strings.ToLower(addr)] {
			return d.DialContext(ctx, network, addr)
		}
		return dialPublic(ctx, d, network, addr, addrOK)
	}
	return &http.Client{Transport: t, CheckRedirect: redirectPolicy(apiBase, addrOK)}
}

// dialPublic resolves addr and dials the first of its addresses, provided every one
// of them passes addrOK: dialling the checked address itself leaves no room for a
// second DNS answer that differs from the first.
func dialPublic(ctx context.Context, d *net.Dialer, network, addr string, addrOK func(netip.Addr) bool) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if !addrOK(ip) {
			return nil, fmt.Errorf("%w: %s resolves to %s, which is not a public address", ErrRedirectRefused, host, ip)
		}
	}
	var last error = fmt.Errorf("%s has no address", host)
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// redirectPolicy returns the CheckRedirect of downloads from apiBase.
func redirectPolicy(apiBase string, addrOK func(netip.Addr) bool) func(*http.Request, []*http.Request) error {
	provider := originAddr(apiBase)
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxFetchRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, maxFetchRedirects)
		}
		if err := checkHop(req.URL, provider, addrOK); err != nil {
			return err
		}
		// Go keeps Authorization on a redirect to the same host name on another port
		// or scheme, and to a subdomain: we keep it only on the first URL's origin,
		// and never again once a hop has left it.
		first := origin(via[0].URL)
		for _, r := range append(via[1:], req) {
			if origin(r.URL) != first {
				req.Header.Del("Authorization")
				break
			}
		}
		return nil
	}
}

// checkHop applies the first URL's rules to a redirect target.
func checkHop(u *url.URL, provider string, addrOK func(netip.Addr) bool) error {
	if u.User != nil {
		return fmt.Errorf("%w: the URL carries user info", ErrRedirectRefused)
	}
	if origin(u) == provider {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%w: %s is off the provider and not https", ErrRedirectRefused, u.Redacted())
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("%w: %q is not a public host", ErrRedirectRefused, u.Hostname())
	}
	if ip, err := netip.ParseAddr(host); err == nil && !addrOK(ip) {
		return fmt.Errorf("%w: %s is not a public address", ErrRedirectRefused, ip)
	}
	return nil
}

// origin returns scheme://host:port of u, lower-cased, with the scheme's default port
// written out, so "https://API.twilio.com" and "https://api.twilio.com:443" agree.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme + "://" + net.JoinHostPort(strings.TrimSuffix(u.Hostname(), "."), port))
}

// hostPort returns host:port of u as the transport dials it, lower-cased.
func hostPort(u *url.URL) string {
	o := origin(u)
	return o[strings.Index(o, "://")+3:]
}

// originAddr returns the origin of raw ("" when it is not an absolute URL).
func originAddr(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return origin(u)
}

// nonPublic are the IPv4 and IPv6 ranges that are not the public internet: loopback,
// private, shared (carrier-grade NAT), link-local (cloud metadata), benchmarking,
// multicast and reserved.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4 address in their
// last four bytes.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// publicAddr reports whether ip is an address on the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:16]))
	}
	if !ip.IsValid() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
