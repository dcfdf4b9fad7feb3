package server

import "time"

// SetShutdownGrace changes shutdownGrace for a test; the returned func restores it.
func SetShutdownGrace(d time.Duration) (restore func()) {
	old := shutdownGrace
	shutdownGrace = d
	return func() { shutdownGrace = old }
}

// Use is use, for the test that it refuses a field interceptor.
var Use = use

// GateWork is gateWork (WORKING_REQUESTS), for a test that holds a place with a
// handler of its own.
var GateWork = gateWork
