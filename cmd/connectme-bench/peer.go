package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

// The peer is PostGraphile 4, pinned by bench/peer/package-lock.json and installed
// there with `npm ci` (node_modules is ignored by git). It runs as its authors
// recommend for production: NODE_ENV=production, its cluster mode, no GraphiQL, no
// query log; on the benchmark's own database, with as many PostgreSQL connections
// in all as our server's pool.

const (
	peerDir     = "bench/peer"
	peerWorkers = 2
	// peerPool is each worker's pool: peerWorkers × peerPool = our DB_MAX_CONNS (32).
	peerPool = 16
	// peerStamp, inside node_modules, holds the hash of the lock file it was
	// installed from, so an up-to-date install is not done again.
	peerStamp = ".connectme-bench-lock-sha256"
)

// peerSummary is how the peer ran, for the report; Skipped says why it did not.
type peerSummary struct {
	Version  string // PostGraphile's
	Node     string
	Workers  int
	Pool     int
	Rounds   int
	Skipped  string
	Settings string
}

// peer is a running PostGraphile.
type peer struct {
	cmd    *exec.Cmd
	exited chan struct{}
	tail   *tailBuf
	base   string
	http   *client
	sum    *peerSummary
}

// errPeerUnavailable marks a peer that cannot be installed here (no node, no npm,
// no registry): the peer rows are skipped, the rest of the run goes on.
var errPeerUnavailable = errors.New("PostGraphile unavailable")

// installPeer makes sure bench/peer/node_modules holds what the lock file pins.
func installPeer(ctx context.Context, dir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found on PATH", errPeerUnavailable, tool)
		}
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", peerStamp)
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "postgraphile", "cli.js")); err == nil {
			return nil
		}
	}
	logf("installing PostGraphile: npm ci in %s", peerDir)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: npm ci: %v\n%s", errPeerUnavailable, err, lastLines(out.String(), 10))
	}
	return os.WriteFile(stamp, []byte(want+"\n"), 0o644)
}

// startPeer installs (if needed) and starts PostGraphile on dsn, and waits until it
// answers a GraphQL query.
func startPeer(ctx context.Context, root, dsn string, conns int) (*peer, error) {
	dir := filepath.Join(root, peerDir)
	if err := installPeer(ctx, dir); err != nil {
		return nil, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{filepath.Join(dir, "node_modules", "postgraphile", "cli.js"),
		"--connection", dsn, "--schema", "public",
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--cluster-workers", strconv.Itoa(peerWorkers), "--max-pool-size", strconv.Itoa(peerPool),
		"--disable-graphiql", "--disable-query-log",
		"--append-plugins", filepath.Join(dir, "peer-plugin.js")}
	p := &peer{base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{}), tail: &tailBuf{max: 40}}
	p.sum = &peerSummary{Version: peerVersion(dir), Node: nodeVersion(), Workers: peerWorkers, Pool: peerPool,
		Settings: "NODE_ENV=production, --cluster-workers " + strconv.Itoa(peerWorkers) + ", --max-pool-size " +
			strconv.Itoa(peerPool) + " per worker, --disable-graphiql --disable-query-log, --schema public, " +
			"--append-plugins bench/peer/peer-plugin.js"}
	p.cmd = exec.Command("node", args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "NODE_ENV=production")
	p.cmd.Stdout, p.cmd.Stderr = p.tail, p.tail
	// Its own process group, so stop reaches the cluster's workers; it dies with
	// the benchmark (the workers follow their primary).
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf("starting PostGraphile %s (node %s) on %s", p.sum.Version, p.sum.Node, dbName(dsn))
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start PostGraphile: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	p.http = newClient(p.base, conns)
	if err := p.waitReady(ctx, 2*time.Minute); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// waitReady polls until the GraphQL endpoint answers a query: every worker has
// introspected the database by then (a worker that has not yet does not listen).
func (p *peer) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	body := []byte(`{"query":"{ __typename }"}`)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Post(p.base+"/graphql", "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("PostGraphile exited during start:\n%s", p.tail)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostGraphile not ready after %s:\n%s", within, p.tail)
		}
	}
}

func (p *peer) pid() int { return p.cmd.Process.Pid }

func (p *peer) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("PostGraphile died:\n%s", p.tail)
	default:
		return nil
	}
}

// stop ends the cluster (SIGTERM to the group, SIGKILL after five seconds).
func (p *peer) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.exited
	}
}

// groupCPU is the CPU seconds used so far by the live processes of a process
// group: the peer's primary and its workers.
func groupCPU(pgid int) float64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	total := 0.0
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		j := strings.LastIndexByte(s, ')')
		if j < 0 {
			continue
		}
		// After the command: state, ppid, pgrp.
		if f := strings.Fields(s[j+1:]); len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			total += statCPU(b)
		}
	}
	return total
}

func peerVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "postgraphile", "package.json"))
	if err != nil {
		return "?"
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil || pkg.Version == "" {
		return "?"
	}
	return pkg.Version
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// tailBuf keeps the last lines the peer wrote (its start-up banner, or why it died).
type tailBuf struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuf) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 16<<10 {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-8<<10:]...)
	}
	return len(b), nil
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return lastLines(string(t.buf), t.max)
}
