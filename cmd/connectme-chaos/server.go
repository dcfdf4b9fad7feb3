package main

import (
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

// buildServer compiles ./cmd/connectme into dir: the experiments run the real
// binary, through its command line, environment and HTTP API only.
func buildServer(ctx context.Context, dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run connectme-chaos from inside the CONNECTME module")
	}
	bin := filepath.Join(dir, "connectme")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/connectme")
	cmd.Dir = filepath.Dir(mod)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/connectme: %w", err)
	}
	return bin, nil
}

// serverConfig is what one server process is started with.
type serverConfig struct {
	Binary      string
	DatabaseURL string
	Port        int
	Provider    *provider
	MediaDir    string
	Extra       []string // more KEY=value settings
}

// server is one running `connectme serve` child process.
type server struct {
	cfg    serverConfig
	base   string
	cmd    *exec.Cmd
	exited chan struct{}
	tail   *lineTail
}

// jwtSecret is shared by every start, so tokens survive a restart.
const jwtSecret = "connectme-chaos-jwt-secret-0123456789abcdef"

// startServer starts the binary and waits until /readyz answers 200.
func startServer(ctx context.Context, cfg serverConfig) (*server, error) {
	base := "http://127.0.0.1:" + strconv.Itoa(cfg.Port)
	env := append(os.Environ(),
		"DATABASE_URL="+cfg.DatabaseURL,
		"PORT="+strconv.Itoa(cfg.Port),
		"LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(cfg.Port),
		"PUBLIC_BASE_URL="+base,
		"JWT_SECRET="+jwtSecret,
		"AUTH_RATE_LIMIT=0",
		"APP_ENV=development",
		"LOG_LEVEL=warn",
		"DELIVERY_WORKERS=8",
		"DB_MAX_CONNS=20",
		"MEDIA_DIR="+cfg.MediaDir,
		"TWILIO_API_BASE="+cfg.Provider.url(),
		"TWILIO_ACCOUNT_SID="+cfg.Provider.accountSID,
		"TWILIO_AUTH_TOKEN="+cfg.Provider.authToken,
	)
	env = append(env, cfg.Extra...)
	s := &server{cfg: cfg, base: base, exited: make(chan struct{}), tail: &lineTail{max: 60}}
	cmd := exec.Command(cfg.Binary, "serve")
	cmd.Env = env
	cmd.Stdout = io.Discard
	cmd.Stderr = s.tail
	// The child dies with us, whatever way we go.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start connectme: %w", err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, 2*time.Minute); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("connectme exited during start:\n%s", s.tail)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("connectme not ready after %s:\n%s", within, s.tail)
		}
	}
}

// restart starts the same binary again on the same port and database.
func (s *server) restart(ctx context.Context) (*server, error) {
	return startServer(ctx, s.cfg)
}

// kill is `kill -9`: no shutdown, no finishing of sends in flight.
func (s *server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// stop sends SIGTERM and waits for a clean stop, killing it after 30 s.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}

// died reports whether the process has ended on its own.
func (s *server) died() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// freePort returns a loopback port free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lineTail keeps the last max lines written to it, to explain a failure.
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
