package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profileOf reruns a scenario while the server records a CPU profile, and returns the
// top of the profile (where the server's time goes).
func (r *runner) profileOf(ctx context.Context, t *target, name string, conc int, fn attempt) string {
	secs := max(2, int(r.o.dur.Seconds()/2))
	dir := r.o.profileDir
	if dir == "" {
		dir = r.tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	path := filepath.Join(dir, fmt.Sprintf("cpu-%02d-%s.pprof", len(r.rows), slug(name)))
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", t.srv.pprof, secs))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		f.Close()
		done <- err
	}()
	runLoad(ctx, conc, 0, time.Duration(secs)*time.Second+500*time.Millisecond, fn)
	if err := <-done; err != nil {
		return "profile failed: " + err.Error()
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", r.bin, path).CombinedOutput()
	if err != nil {
		return "pprof failed: " + err.Error() + "\n" + string(out)
	}
	logf("  profiled the server during a rerun (%d s): %s", secs, path)
	return strings.TrimSpace(string(out))
}

// slug turns a scenario name into a file name.
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// heapProfile saves the server's heap profile (memory in use) and returns its top.
func (r *runner) heapProfile(ctx context.Context, t *target) string {
	dir := r.o.profileDir
	if dir == "" {
		dir = r.tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	path := filepath.Join(dir, "heap-subscriptions.pprof")
	if resp, err := http.Get("http://" + t.srv.pprof + "/debug/pprof/goroutine?debug=1"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		first, _, _ := strings.Cut(string(b), "\n")
		logf("  server %s", strings.TrimSpace(first))
		r.goroutines = strings.TrimSpace(strings.TrimPrefix(first, "goroutine profile:"))
		_ = os.WriteFile(filepath.Join(dir, "goroutines-subscriptions.txt"), b, 0o644)
	}
	resp, err := http.Get("http://" + t.srv.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return "heap profile failed: " + err.Error()
	}
	// Where the resident memory is, besides the live objects: goroutine stacks and
	// the heap the collector has not returned yet.
	if resp, err := http.Get("http://" + t.srv.pprof + "/debug/pprof/heap?debug=1"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var parts []string
		for _, line := range strings.Split(string(b), "\n") {
			// "# Stack = inuse / sys"
			for _, k := range []string{"# HeapAlloc = ", "# HeapInuse = ", "# Stack = ", "# Sys = "} {
				if v, ok := strings.CutPrefix(line, k); ok {
					v, _, _ = strings.Cut(v, " ")
					if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
						parts = append(parts, fmt.Sprintf("%s %.0f MB", strings.TrimSuffix(k[2:], " = "), float64(n)/(1<<20)))
					}
				}
			}
		}
		logf("  server memory: %s", strings.Join(parts, ", "))
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err.Error()
	}
	_, err = io.Copy(f, resp.Body)
	f.Close()
	if err != nil {
		return err.Error()
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=25", r.bin, path).CombinedOutput()
	if err != nil {
		return "pprof failed: " + err.Error() + "\n" + string(out)
	}
	logf("  saved the server's heap profile: %s", path)
	return strings.TrimSpace(string(out))
}
