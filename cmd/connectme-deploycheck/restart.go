package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

// instance is one `connectme serve` behind the proxy.
type instance struct {
	name string
	port int
	proc *childproc.Process
}

func (in *instance) base() string { return fmt.Sprintf("http://127.0.0.1:%d", in.port) }

// start runs the instance on its port and waits for /readyz.
func (in *instance) start(ctx context.Context, bin string, env map[string]string) error {
	e := make(map[string]string, len(env)+1)
	for k, v := range env {
		e[k] = v
	}
	e["LISTEN_ADDR"] = fmt.Sprintf("127.0.0.1:%d", in.port)
	p, err := childproc.Start("instance "+in.name, bin, envList(e), 200)
	if err != nil {
		return err
	}
	in.proc = p
	return p.WaitReady(ctx, in.base(), 60*time.Second)
}

// stop is the graceful stop (SIGTERM), killed past the systemd unit's
// TimeoutStopSec; it reports whether the instance stopped on its own.
func (in *instance) stop() bool {
	if in.proc == nil || in.proc.Died() {
		return true
	}
	_ = in.proc.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.proc.Exited:
		return true
	case <-time.After(35 * time.Second):
		in.proc.Kill()
		return false
	}
}

// waitProxy waits until the proxy answers /readyz.
func waitProxy(ctx context.Context, pub string, pool *x509.CertPool) error {
	hc := httpClient(pool, "")
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if resp, err := hc.Get(pub + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !tick(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("nginx did not answer %s/readyz within 15 s", pub)
}

func nginxVersion() string {
	out, _ := exec.Command("nginx", "-v").CombinedOutput()
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: "))
}

// rollingRestart keeps the load up while each instance in turn is stopped
// (SIGTERM, waited for), started again and waited for on /readyz; then it lets the
// outbox drain and counts, at the provider, the messages lost and sent twice.
func rollingRestart(ctx context.Context, o options, c *client, t *tenant, pub string, pool *x509.CertPool,
	prov *provider, bin string, env map[string]string, insts []*instance, step func(string, ...any)) error {
	l := &load{c: c, t: t, hc: httpClient(pool, ""), public: pub, wsURL: "wss" + strings.TrimPrefix(pub, "https") + "/graphql"}
	loadCtx, stopLoad := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.run(loadCtx); close(done) }()
	defer func() { stopLoad(); <-done }()

	step("rolling restart under load (2 readers, 2 senders, 1 webhook poster, 4 websockets)")
	if !tick(ctx, o.settle) {
		return ctx.Err()
	}
	for _, in := range insts {
		t0 := time.Now()
		if !in.stop() {
			return fmt.Errorf("instance %s did not stop within 35 s of SIGTERM:\n%s", in.name, in.proc.Tail)
		}
		stopped := time.Since(t0)
		if err := in.start(ctx, bin, env); err != nil {
			return err
		}
		step("  instance %s: stopped %.1fs after SIGTERM, ready again after %.1fs", in.name, stopped.Seconds(), time.Since(t0).Seconds())
		if !tick(ctx, o.settle) {
			return ctx.Err()
		}
	}
	stopLoad()
	<-done

	// Every send answered 201 must reach the provider once.
	l.mu.Lock()
	accepted := append([]string(nil), l.accepted...)
	l.mu.Unlock()
	var lost []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts := prov.counts()
		lost = lost[:0]
		for _, body := range accepted {
			if counts[body] == 0 {
				lost = append(lost, body)
			}
		}
		if len(lost) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	prov.inFlight.Wait()
	var dups []string
	atProvider := 0
	for body, n := range prov.counts() {
		if strings.HasPrefix(body, "deploy-") {
			atProvider++
		}
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s x%d", body, n))
		}
	}
	sort.Strings(dups)
	callbacks, badCallbacks := 0, 0
	for code, n := range prov.callbackAnswers() {
		callbacks += n
		if code == http.StatusBadGateway || code == http.StatusGatewayTimeout {
			l.proxyErrors.Add(int64(n))
		}
		if code != http.StatusCreated {
			badCallbacks += n
		}
	}

	fmt.Println()
	fmt.Printf("requests:        %d through the proxy (reads %d, sends %d, webhooks %d) + %d status callbacks from the provider\n",
		l.requests.Load(), l.reads.Load(), l.sends.Load(), l.webhooks.Load(), callbacks)
	fmt.Printf("proxy errors:    %d (502/504 from nginx)\n", l.proxyErrors.Load())
	fmt.Printf("other failures:  %d requests, %d status callbacks not taken\n", l.nFail, badCallbacks)
	for _, f := range l.failures {
		fmt.Printf("                 %s\n", f)
	}
	fmt.Printf("messages:        %d accepted, %d at the provider, %d lost, %d duplicated\n", len(accepted), atProvider, len(lost), len(dups))
	fmt.Printf("websockets:      %d closed cleanly (1000/1001), %d closed otherwise, %d reconnected\n",
		l.wsClean.Load(), l.wsOther.Load(), l.wsReconnected.Load())
	fmt.Println()

	var problems []string
	if n := l.proxyErrors.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d proxy errors", n))
	}
	if len(lost) > 0 {
		problems = append(problems, fmt.Sprintf("%d messages lost (e.g. %s)", len(lost), lost[0]))
	}
	if len(dups) > 0 {
		problems = append(problems, fmt.Sprintf("%d messages duplicated (e.g. %s)", len(dups), dups[0]))
	}
	if l.nFail > 0 || badCallbacks > 0 {
		problems = append(problems, fmt.Sprintf("%d failed requests, %d status callbacks not taken", l.nFail, badCallbacks))
	}
	if l.wsClean.Load() == 0 || l.wsReconnected.Load() < l.wsClean.Load()+l.wsOther.Load() {
		problems = append(problems, "websockets were not closed by the restarts and reconnected")
	}
	if len(problems) > 0 {
		return fmt.Errorf("rolling restart: %s", strings.Join(problems, "; "))
	}
	return nil
}
