package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

var (
	assetRef = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	nonceCSP = regexp.MustCompile(`style-src 'self' 'nonce-([A-Za-z0-9_-]+)'`)
)

func TestPlayground_ServesGraphiQLFromTheBinary(t *testing.T) {
	app := testkit.NewApp(t)
	r := app.Do("GET", "/playground", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /playground: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	// The style nonce is fresh per answer and handed to the page for GraphiQL.
	m := nonceCSP.FindStringSubmatch(csp)
	if m == nil || !bytes.Contains(r.Body, []byte(`data-style-nonce="`+m[1]+`"`)) {
		t.Errorf("style nonce missing from CSP or page: %q", csp)
	}
	if again := app.Do("GET", "/playground", "", nil); again.Header.Get("Content-Security-Policy") == csp {
		t.Error("two answers share a nonce")
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page Cache-Control = %q", cc)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("page lacks X-Content-Type-Options: nosniff")
	}
	body := string(r.Body)
	if strings.Contains(body, "<script>") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("page has inline script or style")
	}
	if !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Error("page is not configured with the /graphql endpoint")
	}

	// Every script and style comes from this server, named with its hash.
	wantTypes := map[string]string{
		"graphiql.min.js":             "text/javascript; charset=utf-8",
		"graphiql.min.css":            "text/css; charset=utf-8",
		"react.production.min.js":     "text/javascript; charset=utf-8",
		"react-dom.production.min.js": "text/javascript; charset=utf-8",
		"playground.js":               "text/javascript; charset=utf-8",
		"playground.css":              "text/css; charset=utf-8",
	}
	seen := map[string]bool{}
	for _, ref := range assetRef.FindAllStringSubmatch(body, -1) {
		u := ref[1]
		if strings.HasPrefix(u, "data:") {
			continue
		}
		name, version, ok := strings.Cut(strings.TrimPrefix(u, "/playground/assets/"), "?v=")
		if !strings.HasPrefix(u, "/playground/assets/") || !ok || version == "" {
			t.Errorf("page refers to %q, not a versioned asset of this server", u)
			continue
		}
		seen[name] = true
		a := app.Do("GET", u, "", nil, "Accept-Encoding", "identity")
		if a.Status != 200 || a.Header.Get("Content-Type") != wantTypes[name] || len(a.Body) == 0 {
			t.Errorf("GET %s: %d %q (%d bytes)", u, a.Status, a.Header.Get("Content-Type"), len(a.Body))
			continue
		}
		if cc := a.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s Cache-Control = %q", name, cc)
		}
		if a.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s lacks nosniff", name)
		}
		if bytes.Contains(a.Body, []byte("sourceMappingURL=")) {
			t.Errorf("%s names a source map the server does not have", name)
		}
		// Revalidation by ETag.
		if nm := app.Do("GET", u, "", nil, "Accept-Encoding", "identity", "If-None-Match", a.Header.Get("ETag")); nm.Status != 304 {
			t.Errorf("%s If-None-Match: %d", name, nm.Status)
		}
		// The same content gzipped for clients that take it.
		if name == "graphiql.min.js" {
			z := app.Do("GET", u, "", nil, "Accept-Encoding", "gzip")
			if z.Header.Get("Content-Encoding") != "gzip" || len(z.Body) >= len(a.Body)/2 {
				t.Errorf("gzip: %q, %d of %d bytes", z.Header.Get("Content-Encoding"), len(z.Body), len(a.Body))
			} else if zr, err := gzip.NewReader(bytes.NewReader(z.Body)); err != nil {
				t.Errorf("gzip: %v", err)
			} else if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, a.Body) {
				t.Errorf("gzip body differs from the plain one (%v)", err)
			}
			if v := z.Header.Get("Vary"); v != "Accept-Encoding" {
				t.Errorf("Vary = %q", v)
			}
		}
	}
	for name := range wantTypes {
		if !seen[name] {
			t.Errorf("page does not load %s", name)
		}
	}

	// An asset asked for without (or with a stale) version must be revalidated.
	if a := app.Do("GET", "/playground/assets/playground.js", "", nil); a.Status != 200 || a.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned asset: %d %q", a.Status, a.Header.Get("Cache-Control"))
	}
	if a := app.Do("GET", "/playground/assets/LICENSE.graphiql", "", nil); a.Status != 200 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("license: %d %q", a.Status, a.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/playground/assets/nope.js", "/playground/assets/../playground.go", "/playground/index.html"} {
		if a := app.Do("GET", p, "", nil); a.Status != 404 {
			t.Errorf("GET %s: %d", p, a.Status)
		}
	}
	if a := app.Do("POST", "/playground", "", "{}"); a.Status != 405 || a.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /playground: %d %q", a.Status, a.Header.Get("Allow"))
	}
}

func TestPlayground_AbsentWhenDisabled(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.Playground = false })
	for _, p := range []string{"/playground", "/playground/assets/graphiql.min.js", "/playground/assets/playground.js"} {
		if r := app.Do("GET", p, "", nil); r.Status != 404 {
			t.Errorf("GET %s with the playground off: %d", p, r.Status)
		}
	}
}
