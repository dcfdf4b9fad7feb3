// Package playground serves GraphiQL at /playground from assets embedded in the
// binary, so the playground works on machines and for users with no internet access.
//
// The GraphiQL, React and ReactDOM bundles under assets/ are vendored from npm by
// `make playground-assets` (versions pinned in web/playground/package-lock.json);
// index.html, playground.js and playground.css are ours.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Path is where the page is served; its assets live under Path + "/assets/".
const Path = "/playground"

// csp is the page's Content-Security-Policy: scripts only from this server (no
// inline code); styles from this server plus the one style element GraphiQL's
// dialogs and menus insert (react-remove-scroll-bar), which carries the response's
// nonce; fonts and icons inline as data: URLs (GraphiQL's CSS embeds its fonts);
// requests only to this server (HTTP and websockets); no framing.
func csp(nonce string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + nonce + "'; " +
		"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

//go:embed assets/graphiql.min.js assets/graphiql.min.css assets/react.production.min.js
//go:embed assets/react-dom.production.min.js assets/playground.js assets/playground.css
//go:embed assets/LICENSE.*
var assetFS embed.FS

//go:embed index.html
var indexHTML string

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	contentType string
	body        []byte
	hash        string // first 16 hex digits of the SHA-256 of body

	gzipOnce sync.Once
	gzipped  []byte // nil when compressing does not pay
}

// gz returns the gzip-compressed body, compressing it on first use.
func (a *asset) gz() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		if zw.Close() == nil && buf.Len() < len(a.body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	"":     "text/plain; charset=utf-8", // the LICENSE.* files
}

// site is the page template and the assets; built once per process since they
// never change.
type site struct {
	page   *template.Template
	assets map[string]*asset
}

var (
	siteOnce sync.Once
	theSite  *site
)

func load() *site {
	siteOnce.Do(func() {
		s := &site{assets: map[string]*asset{}}
		entries, err := assetFS.ReadDir("assets")
		if err != nil {
			panic("playground: embedded assets missing: " + err.Error())
		}
		for _, e := range entries {
			body, err := assetFS.ReadFile("assets/" + e.Name())
			if err != nil {
				panic("playground: " + err.Error())
			}
			ext := path.Ext(e.Name())
			if strings.HasPrefix(e.Name(), "LICENSE.") {
				ext = ""
			}
			sum := sha256.Sum256(body)
			s.assets[e.Name()] = &asset{name: e.Name(), contentType: contentTypes[ext], body: body, hash: hex.EncodeToString(sum[:8])}
		}
		// The page names each asset with its hash (?v=), so browsers may cache the
		// assets for good and still pick up new ones after an upgrade.
		tmpl := template.Must(template.New("index").Funcs(template.FuncMap{
			"asset": func(name string) string {
				a, ok := s.assets[name]
				if !ok {
					panic("playground: index.html names a missing asset " + name)
				}
				return Path + "/assets/" + name + "?v=" + a.hash
			},
		}).Parse(indexHTML))
		// Fail at start, not on the first request, if the page names a missing asset.
		if err := tmpl.Execute(io.Discard, pageData{Endpoint: "/graphql"}); err != nil {
			panic("playground: " + err.Error())
		}
		s.page = tmpl
		theSite = s
	})
	return theSite
}

// Handler serves the page at Path and its assets at Path/assets/NAME. Mount it on
// both Path and Path + "/*".
func Handler() http.Handler {
	s := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		switch p := r.URL.Path; {
		case p == Path:
			s.servePage(w, r)
		case p == Path+"/":
			http.Redirect(w, r, Path, http.StatusMovedPermanently)
		case strings.HasPrefix(p, Path+"/assets/"):
			a, ok := s.assets[strings.TrimPrefix(p, Path+"/assets/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			s.serveAsset(w, r, a)
		default:
			http.NotFound(w, r)
		}
	})
}

// pageData fills index.html.
type pageData struct {
	Endpoint   string
	StyleNonce string
}

func (s *site) servePage(w http.ResponseWriter, r *http.Request) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	nonce := base64.RawURLEncoding.EncodeToString(b[:]) // no characters that HTML escapes
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, pageData{Endpoint: "/graphql", StyleNonce: nonce}); err != nil {
		http.Error(w, "the playground page failed to render", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp(nonce))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// Each answer has its own nonce, and names the current assets: never reuse one.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (s *site) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.hash {
		// The URL names this exact content: it never changes.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, a.hash
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		if z := a.gz(); z != nil {
			body, etag = z, a.hash+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}
