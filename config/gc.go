package config

import (
	"fmt"
	"strconv"
	"strings"
)

// GCAuto is GC_PERCENT=auto, the default: the target follows the live heap
// (internal/gctune): 400 while the heap is small, Go's 100 once it is large. A
// fixed 400 was measured first (BENCHMARKS.md): the collector's share of a GraphQL
// page's CPU fell by a quarter, but with ten thousand websockets open the heap,
// and the memory each subscription costs, grew by a third; auto keeps the first
// and not the second. Where memory is capped, set GOMEMLIMIT too (Go reads it).
const GCAuto = 0

// loadGC reads GC_PERCENT: auto, a whole number from 25 to 10000, or off (no
// collection but under GOMEMLIMIT).
func (c *Config) loadGC(get func(k, def string) string) error {
	v := strings.ToLower(get("GC_PERCENT", "auto"))
	switch v {
	case "auto":
		c.GCPercent = GCAuto
		return nil
	case "off":
		c.GCPercent = -1
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 25 || n > 10000 {
		return fmt.Errorf("GC_PERCENT must be auto, a whole number from 25 to 10000, or off, not %q", v)
	}
	c.GCPercent = n
	return nil
}

// gcPercentText is GC_PERCENT as configured.
func gcPercentText(p int) string {
	switch p {
	case GCAuto:
		return "auto"
	case -1:
		return "off"
	}
	return strconv.Itoa(p)
}
