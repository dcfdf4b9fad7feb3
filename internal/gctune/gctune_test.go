package gctune

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, Ceiling},
		{8 << 20, Ceiling},  // a server under read load
		{32 << 20, Ceiling}, // 128 MiB of headroom is 400 %
		{64 << 20, 200},
		{128 << 20, Floor},
		{300 << 20, Floor}, // ten thousand websockets: Go's default
		{4 << 30, Floor},
	} {
		if got := Percent(tc.live); got != tc.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

func TestRunSetsTheTargetAndStops(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	debug.SetGCPercent(100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Run(ctx, 10*time.Millisecond); close(done) }()
	time.Sleep(50 * time.Millisecond)
	// A test binary's live heap is a few megabytes: the ceiling.
	if got := debug.SetGCPercent(100); got != Ceiling {
		t.Errorf("the target is %d, want %d", got, Ceiling)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run did not stop with its context")
	}
}
