package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// On a shared two-core machine the question after "how fast" is "who used the
// CPU": the server, PostgreSQL, or the load generator itself. cpuSnap reads the
// answer from /proc (Linux only; elsewhere everything reads as zero).

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on every Linux we run).
const clockTicks = 100

type cpuSnap struct {
	at     time.Time
	server float64 // seconds of CPU used by the server process
	// postgres holds the CPU seconds by pid of each postgres process that works
	// for the benchmark: the backends connected to its database and the server's
	// shared background processes (WAL writer, checkpointer...); other databases'
	// sessions, such as a test run beside the benchmark, are left out. A backend
	// that exits during an interval takes its time with it, so an interval counts
	// only processes alive at its end (summing totals could go negative).
	postgres map[int]float64
	self     float64 // by this benchmark (the clients)
	busy     float64 // by the whole machine
}

func takeCPU(serverPID int, database string) cpuSnap {
	s := cpuSnap{at: time.Now(), server: procCPU(serverPID), self: procCPU(os.Getpid()), postgres: map[int]float64{}}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if comm := commOf(b); comm == "postgres" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			if worksFor(pid, database) {
				s.postgres[pid] = statCPU(b)
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			s.busy += n / clockTicks
		}
	}
	return s
}

// CPUShare is the CPU used during an interval, in cores (2.0 = both cores busy).
type CPUShare struct {
	Server, Postgres, Client, Machine float64
}

func (a cpuSnap) until(b cpuSnap) CPUShare {
	d := b.at.Sub(a.at).Seconds()
	if d <= 0 {
		return CPUShare{}
	}
	var pg float64
	for pid, t := range b.postgres {
		pg += t - a.postgres[pid] // a process started during the interval counts from 0
	}
	return CPUShare{Server: (b.server - a.server) / d, Postgres: pg / d,
		Client: (b.self - a.self) / d, Machine: (b.busy - a.busy) / d}
}

func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	return statCPU(b)
}

func commOf(stat []byte) string {
	s := string(stat)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// statCPU returns utime+stime of a /proc/<pid>/stat line, in seconds.
func statCPU(stat []byte) float64 {
	s := string(stat)
	j := strings.LastIndexByte(s, ')')
	if j < 0 {
		return 0
	}
	f := strings.Fields(s[j+1:])
	// After the command: state is field 3; utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks
}

// worksFor reports whether a postgres process serves database or the whole server.
// A backend's title is "postgres: <cluster>: <user> <database> <client> <state>";
// the background processes' titles name no client ("postgres: 15/main: walwriter").
func worksFor(pid int, database string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	title := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
	f := strings.Fields(title)
	// A backend has a client address ("127.0.0.1(49020)", "[local]").
	for i, w := range f {
		if strings.HasSuffix(w, ")") && strings.Contains(w, "(") || w == "[local]" {
			return i >= 1 && f[i-1] == database
		}
	}
	return true
}
