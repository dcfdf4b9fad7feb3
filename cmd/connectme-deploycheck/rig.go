package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir, as TLS ends
// at the proxy in production, and returns the pool that trusts it.
func selfSigned(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject: pkix.Name{CommonName: "connectme deploy check"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool, nil
}

// tlsConfig trusts the check's own certificate only.
func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// substitute replaces each old string of the site file with its new one; every old
// string must be present, so that a changed site file fails the check loudly instead
// of running a configuration the operator would not get.
func substitute(site string, pairs ...string) (string, error) {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(site, pairs[i]) {
			return "", fmt.Errorf("the nginx site no longer contains %q; update the deploy check's templating", pairs[i])
		}
		site = strings.ReplaceAll(site, pairs[i], pairs[i+1])
	}
	return site, nil
}

// nginxPorts are what the site file is templated with.
type nginxPorts struct {
	https, http, a, b int
	cert, key         string
}

// startNginx writes the configuration (writeNginxConfig), checks it with nginx -t,
// and starts nginx in the foreground as a child.
func startNginx(dir, sitePath string, p nginxPorts) (*exec.Cmd, error) {
	conf, err := writeNginxConfig(dir, sitePath, p)
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command("nginx", "-t", "-q", "-c", conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command("nginx", "-c", conf)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// writeNginxConfig writes the site (deploy/nginx/connectme.conf with ports and
// paths substituted) and a minimal nginx.conf including it into dir, and returns
// the nginx.conf's path.
func writeNginxConfig(dir, sitePath string, p nginxPorts) (string, error) {
	raw, err := os.ReadFile(sitePath)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	site, err := substitute(string(raw),
		"server 127.0.0.1:8081 ", fmt.Sprintf("server 127.0.0.1:%d ", p.a),
		"server 127.0.0.1:8082 ", fmt.Sprintf("server 127.0.0.1:%d ", p.b),
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d ssl;", p.https),
		"listen [::]:443 ssl;", "",
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", p.http),
		"listen [::]:80;", "",
		"/etc/ssl/connectme/fullchain.pem", p.cert,
		"/etc/ssl/connectme/privkey.pem", p.key,
	)
	if err != nil {
		return "", err
	}
	siteFile := filepath.Join(dir, "connectme.conf")
	if err := os.WriteFile(siteFile, []byte(site), 0o644); err != nil {
		return "", err
	}
	for _, d := range []string{"body", "proxy", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return "", err
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the throwaway temp directories belong to root
	}
	main := fmt.Sprintf(`%s
daemon off;
worker_processes 2;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log %[2]s/logs/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/proxy;
    uwsgi_temp_path %[2]s/proxy;
    scgi_temp_path %[2]s/proxy;
    include %[3]s;
}
`, user, dir, siteFile)
	conf := filepath.Join(dir, "nginx.conf")
	return conf, os.WriteFile(conf, []byte(main), 0o644)
}

// stopNginx asks nginx to finish its connections (SIGQUIT) and waits a moment.
func stopNginx(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGQUIT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// readEnvFile parses deploy/connectme.env.example: NAME=value lines, # comments.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: not NAME=value: %q", path, line)
		}
		env[k] = v
	}
	return env, sc.Err()
}

// envList turns the map into os/exec's form, with PATH and HOME kept.
func envList(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// verifyUnit runs systemd-analyze verify on the unit with its binary and
// environment file paths pointed at this check's; it reports "skipped" when the
// machine has no systemd-analyze.
func verifyUnit(dir, unitPath, bin, envFile string) (string, error) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return "skipped (no systemd-analyze on this machine)", nil
	}
	raw, err := os.ReadFile(unitPath)
	if err != nil {
		return "", err
	}
	unit, err := substitute(string(raw), "/usr/local/bin/connectme", bin, "/etc/connectme/connectme.env", envFile)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "connectme.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		return "", fmt.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	return "ok", nil
}
