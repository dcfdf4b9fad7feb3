package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildServer compiles ./cmd/connectme into dir and returns the binary's path.
func buildServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "connectme")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/connectme")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ./cmd/connectme: %w", err)
	}
	return bin, nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark from inside the CONNECTME module")
	}
	return filepath.Dir(mod), nil
}

// server is one running instance of the server binary.
type server struct {
	name string
	cmd  *exec.Cmd
	base string
	// pprof is the loopback address of its profiling listener, when enabled.
	pprof string
	// exited is closed when the process ends.
	exited chan struct{}
	// tail keeps the last lines it logged, to explain a crash.
	tail *lineTail

	stopOnce sync.Once
}

// serverConfig is what one instance is started with.
type serverConfig struct {
	Name        string
	Binary      string
	DatabaseURL string
	JWTSecret   string
	Provider    string // TWILIO_API_BASE
	AccountSID  string
	AuthToken   string
	MediaDir    string
	Pprof       bool
	Extra       []string
}

// startServer execs the binary on a free port and waits until /readyz answers 200.
// The child dies with the benchmark (SIGKILL on the parent's death, as a last
// resort); stop ends it politely first.
func startServer(ctx context.Context, c serverConfig) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(),
		"DATABASE_URL="+c.DatabaseURL,
		"PORT="+strconv.Itoa(port),
		"LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"PUBLIC_BASE_URL="+base,
		"JWT_SECRET="+c.JWTSecret,
		"AUTH_RATE_LIMIT=0",
		"TWILIO_API_BASE="+c.Provider,
		"TWILIO_ACCOUNT_SID="+c.AccountSID,
		"TWILIO_AUTH_TOKEN="+c.AuthToken,
		"MEDIA_DIR="+c.MediaDir,
		"LOG_LEVEL=warn",
		"APP_ENV=development",
		// Thousands of sockets from one address and few agents: the caps are off.
		"WS_MAX_PER_ADDR=0", "WS_MAX_PER_AGENT=0",
	)
	s := &server{name: c.Name, base: base, exited: make(chan struct{}), tail: &lineTail{max: 40}}
	if c.Pprof {
		pp, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprof = "127.0.0.1:" + strconv.Itoa(pp)
		env = append(env, "PPROF_ADDR="+s.pprof)
	}
	env = append(env, c.Extra...)
	cmd := exec.Command(c.Binary, "serve")
	cmd.Env = env
	cmd.Stdout = io.Discard
	cmd.Stderr = s.tail
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.exited) }()
	registerChild(s)

	deadline := time.Now().Add(3 * time.Minute) // a new migration may build an index
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited during start:\n%s", c.Name, s.tail.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after 3 minutes:\n%s", c.Name, s.tail.String())
		}
	}
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports an error when the server has died.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s died:\n%s", s.name, s.tail.String())
	default:
		return nil
	}
}

// stop sends SIGTERM (graceful shutdown), and SIGKILL to the whole process group if
// it has not ended within a few seconds.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		unregisterChild(s)
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.exited
		}
	})
}

// rssKB reads the server's resident set size (VmRSS) from /proc.
func (s *server) rssKB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// children are the servers running now; killAll ends them on the way out, whatever
// the way out is.
var (
	childMu  sync.Mutex
	children = map[*server]struct{}{}
)

func registerChild(s *server) {
	childMu.Lock()
	children[s] = struct{}{}
	childMu.Unlock()
}

func unregisterChild(s *server) {
	childMu.Lock()
	delete(children, s)
	childMu.Unlock()
}

func killAll() {
	childMu.Lock()
	list := make([]*server, 0, len(children))
	for s := range children {
		list = append(list, s)
	}
	childMu.Unlock()
	for _, s := range list {
		s.stop()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lineTail keeps the last max lines written to it.
type lineTail struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
}

// Write implements io.Writer.
func (t *lineTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

// String returns the kept lines.
func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// Recent returns kept lines containing substr (e.g. warnings during a scenario).
func (t *lineTail) Recent(substr string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, l := range t.lines {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}
