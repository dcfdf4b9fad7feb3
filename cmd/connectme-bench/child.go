package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

// server is one running instance of the server binary.
type server struct {
	*childproc.Process
	// name is known before the process is started (the target's placeholder).
	name string
	base string
	// pprof is the loopback address of its profiling listener, when enabled.
	pprof string

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
	port, err := childproc.FreePort()
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
	s := &server{name: c.Name, base: base}
	if c.Pprof {
		pp, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		s.pprof = "127.0.0.1:" + strconv.Itoa(pp)
		env = append(env, "PPROF_ADDR="+s.pprof)
	}
	env = append(env, c.Extra...)
	if s.Process, err = childproc.Start(c.Name, c.Binary, env, 40); err != nil {
		return nil, err
	}
	registerChild(s)
	// A new migration may build an index.
	if err := s.WaitReady(ctx, base, 3*time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// alive reports an error when the server has died.
func (s *server) alive() error {
	if s.Died() {
		return fmt.Errorf("%s died:\n%s", s.name, s.Tail)
	}
	return nil
}

// stop sends SIGTERM (graceful shutdown), and SIGKILL to the whole process group if
// it has not ended within a few seconds.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		unregisterChild(s)
		s.Stop(5 * time.Second)
	})
}

// rssKB reads the server's resident set size (VmRSS) from /proc.
func (s *server) rssKB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
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
