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
