package config

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// WorkAuto is WORKING_REQUESTS=auto, the default: WorkPerCore reads at work per
// core the Go runtime uses (GOMAXPROCS).
const WorkAuto = 0

// WorkPerCore is auto's reads at work per core, chosen by measurement
// (BENCHMARKS.md: 2 per core served the conversation list at 1,210/s against
// 1,366/s with 4): enough to keep the cores and PostgreSQL busy while some reads
// wait on the database, few enough that they do not take turns.
const WorkPerCore = 4

// loadWork reads WORKING_REQUESTS: auto, a whole number from 1 up, or off (every
// admitted read works at once).
func (c *Config) loadWork(get func(k, def string) string) error {
	v := strings.ToLower(get("WORKING_REQUESTS", "auto"))
	switch v {
	case "auto":
		c.WorkingRequests = WorkAuto
		return nil
	case "off":
		c.WorkingRequests = -1
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100000 {
		return fmt.Errorf("WORKING_REQUESTS must be auto, a whole number from 1 up, or off, not %q", v)
	}
	c.WorkingRequests = n
	return nil
}

// WorkPlaces is how many reads work at once (WORKING_REQUESTS resolved): 0 for
// off.
func (c *Config) WorkPlaces() int {
	switch c.WorkingRequests {
	case WorkAuto:
		return WorkPerCore * runtime.GOMAXPROCS(0)
	case -1:
		return 0
	}
	return c.WorkingRequests
}

// workText is WORKING_REQUESTS as configured.
func workText(n int) string {
	switch n {
	case WorkAuto:
		return "auto"
	case -1:
		return "off"
	}
	return strconv.Itoa(n)
}
