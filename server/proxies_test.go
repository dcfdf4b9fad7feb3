package server

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer's header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted IPv6 peer", "[2001:db8::1]:443", []string{"198.51.100.1"}, "2001:db8::1"},
		{"mapped IPv4 peer", "[::ffff:203.0.113.9]:80", nil, "203.0.113.9"},
		{"trusted peer, no header", "10.0.0.2:80", nil, "10.0.0.2"},
		{"trusted peer", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed entries left of the real one", "10.0.0.2:80", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:80", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9, 10.0.0.5"}, "198.51.100.1"},
		{"several header lines", "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.1, 10.0.0.7"}, "198.51.100.1"},
		{"all trusted", "10.0.0.2:80", []string{"10.1.1.1, 10.0.0.5"}, "10.1.1.1"},
		{"IPv6 proxy and client", "[fd00::1]:80", []string{"2001:db8::7"}, "2001:db8::7"},
		{"entry with a port", "10.0.0.2:80", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"bracketed IPv6 entry", "10.0.0.2:80", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"garbage right of the client", "10.0.0.2:80", []string{"198.51.100.1, garbage"}, "10.0.0.2"},
		{"garbage behind a trusted hop", "10.0.0.2:80", []string{"garbage, 10.0.0.5"}, "10.0.0.5"},
		{"empty header", "10.0.0.2:80", []string{""}, "10.0.0.2"},
		{"unparsable peer", "pipe", nil, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clientIP(tc.peer, tc.xff, trusted); got != tc.want {
				t.Errorf("clientIP(%q, %q) = %q, want %q", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
	if got := clientIP("10.0.0.2:80", []string{"198.51.100.1"}, nil); got != "10.0.0.2" {
		t.Errorf("with no trusted proxies the header must be ignored: %q", got)
	}
}
