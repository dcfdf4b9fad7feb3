package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestLoad_ClientLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		perAddr int
		proxies string // the parsed prefixes, space-separated
		err     string
	}{
		{"defaults", nil, 30, "", ""},
		{"per address follows AUTH_RATE_LIMIT", map[string]string{"AUTH_RATE_LIMIT": "4"}, 12, "", ""},
		{"per address off with the limit", map[string]string{"AUTH_RATE_LIMIT": "0"}, 0, "", ""},
		{"per address set", map[string]string{"AUTH_RATE_LIMIT_PER_ADDR": "50"}, 50, "", ""},
		{"per address off", map[string]string{"AUTH_RATE_LIMIT_PER_ADDR": "0"}, 0, "", ""},
		{"per address negative", map[string]string{"AUTH_RATE_LIMIT_PER_ADDR": "-1"}, 0, "", "AUTH_RATE_LIMIT_PER_ADDR"},
		{"per address not a number", map[string]string{"AUTH_RATE_LIMIT_PER_ADDR": "many"}, 0, "", "AUTH_RATE_LIMIT_PER_ADDR"},
		{"proxies", map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1"}, 30,
			"10.0.0.0/8 192.168.1.7/32 fd00::/8 ::1/128", ""},
		{"proxies are masked", map[string]string{"TRUSTED_PROXIES": "10.1.2.3/8"}, 30, "10.0.0.0/8", ""},
		{"mapped IPv4", map[string]string{"TRUSTED_PROXIES": "::ffff:10.0.0.0/104"}, 30, "10.0.0.0/8", ""},
		{"bad proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, 0, "", "TRUSTED_PROXIES"},
		{"bad prefix length", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, 0, "", "TRUSTED_PROXIES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.vars))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Trim(fmt.Sprint(c.TrustedProxies), "[]")
			if c.AuthRateLimitPerAddr != tc.perAddr || got != tc.proxies {
				t.Errorf("per address %d, proxies %q; want %d, %q", c.AuthRateLimitPerAddr, got, tc.perAddr, tc.proxies)
			}
		})
	}
}
