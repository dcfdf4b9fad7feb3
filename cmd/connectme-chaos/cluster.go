package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pgBin holds the PostgreSQL 15 programs the private cluster is run with.
const pgBin = "/usr/lib/postgresql/15/bin"

// cluster is a private PostgreSQL cluster, owned by the postgres OS user, in a
// temporary directory, listening on loopback only: the outage experiment stops it,
// which must never touch the machine's shared server.
type cluster struct {
	dir  string // temporary root, owned by postgres
	data string
	sock string
	port int
	log  string
}

// startCluster runs initdb and starts the cluster on port.
func startCluster(ctx context.Context, dir string, port int) (*cluster, error) {
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("port %d is in use; choose another with -pg-port", port)
	}
	c := &cluster{dir: dir, data: filepath.Join(dir, "pgdata"), sock: filepath.Join(dir, "sock"), port: port, log: filepath.Join(dir, "postgres.log")}
	if err := os.Mkdir(c.sock, 0o700); err != nil {
		return nil, err
	}
	if err := chownPostgres(dir, c.sock); err != nil {
		return nil, err
	}
	if out, err := asPostgres(ctx, "initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// fsync is off: the experiments crash the server, never the machine, and a slow
	// disk shared with other work would only blur the figures.
	conf := fmt.Sprintf("\n# connectme-chaos\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"max_connections = 400\nfsync = off\nfull_page_writes = off\nsynchronous_commit = on\nshared_buffers = 64MB\n", port, c.sock)
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return c, c.start(ctx)
}

// url is the DATABASE_URL of database name on this cluster.
func (c *cluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// start starts a stopped cluster and waits until it accepts connections.
func (c *cluster) start(ctx context.Context) error {
	out, err := asPostgres(ctx, "pg_ctl", "-D", c.data, "-l", c.log, "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, tailFile(c.log, 20))
	}
	return nil
}

// stop is `pg_ctl stop -m fast`: sessions are ended, what was committed stays.
func (c *cluster) stop(ctx context.Context) error {
	out, err := asPostgres(ctx, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// destroy stops the cluster at once, whatever its state, and removes its files. It
// runs on every way out, Ctrl-C included, so it takes no context.
func (c *cluster) destroy() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
		if out, err := asPostgres(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop"); err != nil {
			fmt.Fprintf(os.Stderr, "chaos: pg_ctl stop: %v\n%s", err, out)
		}
	}
}

// asPostgres runs one of PostgreSQL's programs as the postgres OS user: initdb and
// the server refuse to run as root.
func asPostgres(ctx context.Context, prog string, args ...string) (string, error) {
	full := append([]string{"-u", "postgres", "--", filepath.Join(pgBin, prog)}, args...)
	cmd := exec.CommandContext(ctx, "runuser", full...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// chownPostgres gives the paths to the postgres OS user.
func chownPostgres(paths ...string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("the private cluster runs as the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// tailFile returns the last n lines of a file, to explain a failure.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
