package config

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultGCPercent is GC_PERCENT's default, chosen by measurement (BENCHMARKS.md,
// "GC_PERCENT"): the GraphQL pages allocate a few hundred kilobytes each, and at
// Go's default of 100 the collector ran often enough to take about a tenth of the
// server's CPU. A higher percentage trades memory for CPU: the heap may grow to
// (1 + GC_PERCENT/100) times what is live, which for this server, whose live heap
// is a few tens of megabytes without websockets, is little. Where memory is tight,
// set GOMEMLIMIT as well (Go reads it itself): the collector then runs more often
// as the heap nears the limit, whatever GC_PERCENT says.
const DefaultGCPercent = 400

// loadGC reads GC_PERCENT: a whole number from 25 to 10000, or off (no collection
// but under GOMEMLIMIT).
func (c *Config) loadGC(get func(k, def string) string) error {
	v := strings.ToLower(get("GC_PERCENT", strconv.Itoa(DefaultGCPercent)))
	if v == "off" {
		c.GCPercent = -1
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 25 || n > 10000 {
		return fmt.Errorf("GC_PERCENT must be a whole number from 25 to 10000, or off, not %q", v)
	}
	c.GCPercent = n
	return nil
}
