// Package childproc builds the connectme binary and runs it as a child process: the
// benchmark and the chaos rig test the real binary from outside, through its
// command line, environment and HTTP API only.
package childproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ModuleRoot is the directory of the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run it from inside the CONNECTME module")
	}
	return filepath.Dir(mod), nil
}

// Build compiles ./cmd/connectme of the module at root into dir and returns the
// binary's path.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "connectme")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/connectme")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/connectme: %w", err)
	}
	return bin, nil
}

// FreePort returns a loopback port free right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Process is one running `connectme serve`.
type Process struct {
	// Name says which server it is in errors.
	Name string
	// Cmd is the started command.
	Cmd *exec.Cmd
	// Exited is closed when the process ends.
	Exited chan struct{}
	// Tail keeps the last lines it logged, to explain a crash.
	Tail *Tail
}

// Start runs `bin serve` with env in a process group of its own, its log kept in a
// tail of tailLines lines. The child dies with the caller, whatever way the caller
// goes (SIGKILL on the parent's death, as a last resort).
func Start(name, bin string, env []string, tailLines int) (*Process, error) {
	p := &Process{Name: name, Exited: make(chan struct{}), Tail: &Tail{max: tailLines}}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout = io.Discard
	cmd.Stderr = p.Tail
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.Cmd = cmd
	go func() { _ = cmd.Wait(); close(p.Exited) }()
	return p, nil
}

// WaitReady polls base+"/readyz" until it answers 200; it fails when the process
// exits, ctx ends or within passes.
func (p *Process) WaitReady(ctx context.Context, base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Exited:
			return fmt.Errorf("%s exited during start:\n%s", p.Name, p.Tail)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s:\n%s", p.Name, within, p.Tail)
		}
	}
}

// Pid is the process id (and process group id).
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Died reports whether the process has ended.
func (p *Process) Died() bool {
	select {
	case <-p.Exited:
		return true
	default:
		return false
	}
}

// Kill is `kill -9` of the whole group: no shutdown, no finishing of work in
// flight. It returns once the process has ended.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.Exited
}

// Stop sends SIGTERM (graceful shutdown) and kills the whole group if it has not
// ended within grace.
func (p *Process) Stop(grace time.Duration) {
	if p.Died() {
		return
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.Exited:
	case <-time.After(grace):
		p.Kill()
	}
}
