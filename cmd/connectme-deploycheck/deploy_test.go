package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectme/connectme/config"
)

// Every setting the server reads is explained in the example environment, set or
// commented out, so operators see all of them.
func TestEnvExampleNamesEverySetting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "connectme.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, v := range config.Vars {
		if !strings.Contains(text, "\n"+v.Name+"=") && !strings.Contains(text, "\n#"+v.Name+"=") {
			t.Errorf("deploy/connectme.env.example does not mention %s", v.Name)
		}
	}
	if _, err := readEnvFile(filepath.Join("..", "..", "deploy", "connectme.env.example")); err != nil {
		t.Error(err)
	}
}

// The check runs the very site file: every string it substitutes must be in it.
func TestSiteTemplating(t *testing.T) {
	dir := t.TempDir()
	conf, err := writeNginxConfig(dir, filepath.Join("..", "..", "deploy", "nginx", "connectme.conf"),
		nginxPorts{https: 40001, http: 40002, a: 40003, b: 40004, cert: "/c.pem", key: "/k.pem"})
	if err != nil {
		t.Fatal(err)
	}
	site, err := os.ReadFile(filepath.Join(dir, "connectme.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen 127.0.0.1:40001 ssl;", "listen 127.0.0.1:40002;", "server 127.0.0.1:40003 ",
		"server 127.0.0.1:40004 ", "ssl_certificate     /c.pem;", "ssl_certificate_key /k.pem;"} {
		if !strings.Contains(string(site), want) {
			t.Errorf("templated site lacks %q", want)
		}
	}
	if strings.Contains(string(site), ":8081") || strings.Contains(string(site), "[::]") {
		t.Error("templated site still holds a production address")
	}
	if main, err := os.ReadFile(conf); err != nil || !strings.Contains(string(main), "include "+filepath.Join(dir, "connectme.conf")) {
		t.Errorf("nginx.conf does not include the site: %s %v", main, err)
	}
	if _, err := substitute("listen 80;", "listen 443 ssl;", "x"); err == nil {
		t.Error("substitute accepted a missing string")
	}
}
