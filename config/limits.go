package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// loadClientLimits reads AUTH_RATE_LIMIT_PER_ADDR (after AUTH_RATE_LIMIT, its
// default's base) and TRUSTED_PROXIES.
func (c *Config) loadClientLimits(get func(k, def string) string) error {
	pa, err := strconv.Atoi(get("AUTH_RATE_LIMIT_PER_ADDR", strconv.Itoa(3*c.AuthRateLimit)))
	if err != nil || pa < 0 {
		return fmt.Errorf("AUTH_RATE_LIMIT_PER_ADDR must be a whole number >= 0, not %q", get("AUTH_RATE_LIMIT_PER_ADDR", ""))
	}
	c.AuthRateLimitPerAddr = pa
	for s := range strings.SplitSeq(get("TRUSTED_PROXIES", ""), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return fmt.Errorf("TRUSTED_PROXIES must list CIDRs such as 10.0.0.0/8 or addresses, not %q", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		// 10.0.0.0/8 and ::ffff:10.0.0.0/104 name the same peers.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	return nil
}

// loadAbuseLimits reads the settings that keep one client from holding the
// instance: BODY_TIMEOUT, UPLOADS_PER_AGENT, WS_MAX_PER_AGENT and WS_MAX_PER_ADDR.
func (c *Config) loadAbuseLimits(get func(k, def string) string, getenv func(string) string) error {
	bt, err := time.ParseDuration(get("BODY_TIMEOUT", "10s"))
	if err != nil || bt < 100*time.Millisecond {
		return fmt.Errorf("BODY_TIMEOUT must be a duration of at least 100ms such as 10s, not %q", getenv("BODY_TIMEOUT"))
	}
	c.BodyTimeout = bt
	for _, v := range []struct {
		name, def string
		dst       *int
	}{
		{"UPLOADS_PER_AGENT", "4", &c.UploadsPerAgent},
		{"WS_MAX_PER_AGENT", "20", &c.WSMaxPerAgent},
		{"WS_MAX_PER_ADDR", "100", &c.WSMaxPerAddr},
	} {
		n, err := strconv.Atoi(get(v.name, v.def))
		if err != nil || n < 0 {
			return fmt.Errorf("%s must be a whole number >= 0, not %q", v.name, getenv(v.name))
		}
		*v.dst = n
	}
	return nil
}
