// Command connectme-deploycheck runs CONNECTME as operators deploy it and checks
// that path end to end (make deploy-check, driven by scripts/deploy-check.sh): two
// instances of the real binary on a throwaway database, a fake Twilio, and nginx
// started with deploy/nginx/connectme.conf (only ports and paths substituted)
// ending TLS in front of them. Through the proxy it runs the graphql-http audit and
// the playground in Chromium, signed webhooks, a subscription on one instance
// hearing a write through the other, per-client sign-in limits, and a rolling
// restart under steady load; it prints requests, proxy errors, messages lost and
// duplicated at the provider, websockets closed and reconnected, and exits 1 on
// any proxy error, lost or duplicated message.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy check: FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("deploy check: PASSED")
}

// options are the command line.
type options struct {
	pg, site, unit, envExample string
	nodeChecks                 bool
	settle                     time.Duration
}

func run(ctx context.Context) error {
	var o options
	flag.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432", "PostgreSQL server URL, without a database")
	flag.StringVar(&o.site, "site", "deploy/nginx/connectme.conf", "the nginx site to run")
	flag.StringVar(&o.unit, "unit", "deploy/systemd/connectme.service", "the systemd unit to verify")
	flag.StringVar(&o.envExample, "env", "deploy/connectme.env.example", "the example environment the instances start from")
	flag.BoolVar(&o.nodeChecks, "node-checks", true, "run web/checks (graphql-http audit, playground in Chromium) and scripts/client.sh through the proxy")
	flag.DurationVar(&o.settle, "settle", 4*time.Second, "load before, between and after the restarts")
	flag.Parse()

	root, err := childproc.ModuleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "connectme-deploycheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	step := func(format string, a ...any) { fmt.Printf("deploy check: "+format+"\n", a...) }

	step("build")
	bin, err := childproc.Build(ctx, root, work)
	if err != nil {
		return err
	}
	env, err := readEnvFile(filepath.Join(root, o.envExample))
	if err != nil {
		return err
	}
	envFile := filepath.Join(work, "connectme.env")
	if raw, err := os.ReadFile(filepath.Join(root, o.envExample)); err != nil || os.WriteFile(envFile, raw, 0o600) != nil {
		return fmt.Errorf("copy %s: %v", o.envExample, err)
	}
	verdict, err := verifyUnit(work, filepath.Join(root, o.unit), bin, envFile)
	if err != nil {
		return err
	}
	step("systemd unit %s: systemd-analyze verify %s", o.unit, verdict)

	cert, key, pool, err := selfSigned(work)
	if err != nil {
		return err
	}
	var ports [4]int
	for i := range ports {
		if ports[i], err = childproc.FreePort(); err != nil {
			return err
		}
	}
	pub := publicURL(ports[0])
	// The callbacks the fake provider posts go through the proxy, like Twilio's.
	prov := newProvider(httpClient(pool, ""))
	defer prov.srv.Close()

	var b [24]byte
	_, _ = rand.Read(b[:])
	db := fmt.Sprintf("connectme_deploy_%d_%d", time.Now().Unix(), os.Getpid())
	defer dropDatabase(o.pg, db)
	// The example environment, with this machine's values: production mode, the
	// proxy trusted, the public URL the proxy's.
	for k, v := range map[string]string{
		"DATABASE_URL": o.pg + "/" + db + "?sslmode=disable", "JWT_SECRET": hex.EncodeToString(b[:]),
		"PUBLIC_BASE_URL": pub, "TRUSTED_PROXIES": "127.0.0.1/32", "TWILIO_ACCOUNT_SID": prov.accountSID,
		"TWILIO_AUTH_TOKEN": prov.authToken, "TWILIO_API_BASE": prov.srv.URL, "MEDIA_DIR": filepath.Join(work, "media"),
		"DB_MAX_CONNS": "8", "LOG_LEVEL": "warn", "GRAPHQL_INTROSPECTION": "true", "PLAYGROUND": "true",
		"METRICS_TOKEN": hex.EncodeToString(b[:8]),
	} {
		env[k] = v
	}
	insts := []*instance{{name: "A", port: ports[2]}, {name: "B", port: ports[3]}}
	for _, in := range insts {
		if err := in.start(ctx, bin, env); err != nil {
			return err
		}
		defer in.stop()
	}
	step("instances A on :%d and B on :%d ready (APP_ENV=%s, TRUSTED_PROXIES=127.0.0.1/32, PUBLIC_BASE_URL=%s)",
		ports[2], ports[3], env["APP_ENV"], pub)

	ng, err := startNginx(filepath.Join(work, "nginx"), filepath.Join(root, o.site),
		nginxPorts{https: ports[0], http: ports[1], a: ports[2], b: ports[3], cert: cert, key: key})
	if err != nil {
		return err
	}
	defer stopNginx(ng)
	if err := waitProxy(ctx, pub, pool); err != nil {
		return err
	}
	step("nginx %s with %s (TLS on :%d)", nginxVersion(), o.site, ports[0])

	c := newClient(pub, prov.authToken, httpClient(pool, ""))
	t, err := setupTenant(ctx, c, 4)
	if err != nil {
		return fmt.Errorf("through the proxy: %w", err)
	}
	checks := []struct {
		name string
		fn   func() (string, error)
	}{
		{"signed webhooks (signature over PUBLIC_BASE_URL)", func() (string, error) {
			return "201 signed over the public URL, 403 over the instance's", checkWebhookSignature(ctx, c, t, insts[0].base())
		}},
		{"body limits", func() (string, error) {
			return "2 MB upload 201, 101048577 bytes 413", checkBodyLimits(ctx, c, fmt.Sprintf("127.0.0.1:%d", ports[0]), pool)
		}},
		{"events across instances", func() (string, error) {
			return "A hears a send through B; sockets through the proxy hear a webhook",
				checkCrossInstance(ctx, c, t, httpClient(pool, ""), insts[0].base(), insts[1].base(), pub)
		}},
		{"sign-in limits per client address (X-Forwarded-For)", func() (string, error) { return checkRateLimit(ctx, pub, pool, t) }},
	}
	if o.nodeChecks {
		checks = append(checks, struct {
			name string
			fn   func() (string, error)
		}{"web/checks through the proxy", func() (string, error) {
			return "graphql-http audit, playground and client script passed", nodeChecks(root, pub, cert)
		}})
	}
	for _, ch := range checks {
		detail, err := ch.fn()
		if err != nil {
			return fmt.Errorf("%s: %w", ch.name, err)
		}
		step("%s: ok (%s)", ch.name, detail)
	}

	return rollingRestart(ctx, o, c, t, pub, pool, prov, bin, env, insts, step)
}

// nodeChecks runs the existing end-to-end checks against the proxy's URL: the
// graphql-http audit, the playground in Chromium and the client script.
func nodeChecks(root, pub, cert string) error {
	for _, args := range [][]string{{"node", "web/checks/graphql-http-audit.mjs", pub + "/graphql"},
		{"node", "web/checks/playground-browser.mjs", pub}, {"bash", "scripts/client.sh", pub, "--cacert", cert}} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+cert, "IGNORE_HTTPS_ERRORS=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", args[0], args[1], err)
		}
	}
	return nil
}

func dropDatabase(pg, db string) {
	out, err := exec.Command("psql", pg+"/postgres?sslmode=disable", "-qtAc", fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, db)).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: could not drop the database %s: %v %s\n", db, err, out)
	}
}
