package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRatios_MedianOfTheRounds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ours, peer []float64
		median     float64
		n          int
	}{
		{"three rounds", []float64{300, 100, 500}, []float64{100, 100, 100}, 3, 3},
		{"even count", []float64{200, 400}, []float64{100, 100}, 3, 2},
		{"a round where the peer did nothing is left out", []float64{200, 300, 400}, []float64{100, 0, 100}, 3, 2},
		{"no rounds", nil, nil, 0, 0},
		{"peer never answered", []float64{100}, []float64{0}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			each, median := ratios(tc.ours, tc.peer)
			if len(each) != tc.n || median != tc.median {
				t.Fatalf("ratios(%v, %v) = %v, %v; want %d ratios, median %v", tc.ours, tc.peer, each, median, tc.n, tc.median)
			}
		})
	}
}

func TestPeerSummary_Markdown(t *testing.T) {
	o := &options{conc: 32, warmup: 3 * time.Second, dur: 12 * time.Second}
	var b strings.Builder
	(*peerSummary)(nil).markdown(&b, o)
	if b.Len() != 0 {
		t.Fatalf("no peer group, yet: %q", b.String())
	}
	(&peerSummary{Skipped: "PostGraphile unavailable: npm not found on PATH"}).markdown(&b, o)
	if !strings.Contains(b.String(), "skipped (PostGraphile unavailable: npm not found on PATH)") {
		t.Fatalf("skipped: %q", b.String())
	}
	b.Reset()
	(&peerSummary{Version: "4.14.1", Node: "v20", Workers: 2, Pool: 16, Rounds: 3, Settings: "NODE_ENV=production"}).markdown(&b, o)
	for _, want := range []string{"PostGraphile 4.14.1", "3 rounds of 1.5s warm-up and 6s measured", "32 PostgreSQL connections", "without authentication"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q: %s", want, b.String())
		}
	}
}

// Without npm the peer is skipped (errPeerUnavailable), not a failed run.
func TestInstallPeer_WithoutNPMIsUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := installPeer(context.Background(), t.TempDir())
	if !errors.Is(err, errPeerUnavailable) {
		t.Fatalf("installPeer without node or npm: %v, want errPeerUnavailable", err)
	}
}

// The lock file is committed and pins the version the report names.
func TestPeerLock_PinsPostGraphile4(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", peerDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"node_modules/postgraphile": {`+"\n"+`      "version": "4.14.1"`) {
		t.Fatal("bench/peer/package-lock.json does not pin postgraphile 4.14.1")
	}
}
