package resolvers

import "testing"

func TestRateLimitAddr_IPv6ClientsShareTheirSlash64(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":                "203.0.113.9",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:0:9": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"::ffff:203.0.113.9":         "::ffff:203.0.113.9",
		"":                           "",
		"not an address":             "not an address",
	} {
		if got := rateLimitAddr(in); got != want {
			t.Errorf("rateLimitAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
