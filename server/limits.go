package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/rest"
)

// Connection timeouts of the HTTP server. Ordinary requests are small (JSON bodies
// of at most 1 MiB, GraphQL documents of 256 KiB) and bounded by REQUEST_TIMEOUT;
// the few long requests get their own deadlines (see connectionDeadlines).
const (
	// ReadHeaderTimeout bounds the request line and headers (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole ordinary request, body included.
	ReadTimeout = time.Minute
	// WriteTimeout bounds an ordinary request from the end of its headers to the
	// end of its answer; it exceeds any REQUEST_TIMEOUT worth setting.
	WriteTimeout = 2 * time.Minute
	// IdleTimeout is how long a keep-alive connection may wait for its next request.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = 64 << 10
	// transferTimeout is what an agent's upload, or anyone's media download, may
	// take: 100 MB over a slow mobile link.
	transferTimeout = 15 * time.Minute
)

// HTTPServer returns the server for handler h on addr, with the timeouts above.
// When h is New's, its shutdown hook is registered: at Shutdown, clients still
// sending a body get shutdownGrace to finish, so that Shutdown does not wait for a
// trickling client until its own deadline.
func HTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if hh, ok := h.(*rootHandler); ok {
		srv.RegisterOnShutdown(hh.reads.shutdown)
	}
	return srv
}

// isUpload reports a request whose body is a file: POST /media/save and the
// multipart GraphQL uploadMedia.
func isUpload(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	return r.URL.Path == "/media/save" ||
		r.URL.Path == "/graphql" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// isDownload reports GET or HEAD /media/{id}, which streams a file.
func isDownload(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, "/media/")
}

// isProbe reports the paths load balancers and Prometheus poll; they must answer
// when the server is full.
func isProbe(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// connectionDeadlines moves the connection deadlines the server set for ordinary
// requests where they do not fit. A websocket lives as long as its token: no
// deadline (the transport pings it instead). An agent's upload and a media download
// get transferTimeout. Only authenticated uploads get the long read deadline, so an
// anonymous client cannot hold a connection open by trickling a body.
func connectionDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		switch {
		case isWebsocket(r):
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		case isUpload(r) && auth.FromContext(r.Context()) != nil:
			end := time.Now().Add(transferTimeout)
			_ = rc.SetReadDeadline(end)
			_ = rc.SetWriteDeadline(end.Add(time.Minute))
		case isDownload(r):
			_ = rc.SetWriteDeadline(time.Now().Add(transferTimeout))
		}
		next.ServeHTTP(w, r)
	})
}

// requestTimeout gives ordinary requests a deadline: their database calls are cut off
// then (pgdriver takes the context's deadline as the socket's), and the surfaces
// answer 503 / UNAVAILABLE. Websockets, uploads and downloads are exempt: their
// length is the client's.
func requestTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if d <= 0 || isWebsocket(r) || isUpload(r) || isDownload(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// limitConcurrency serves at most max requests at once and answers the others 503
// at once, in the error shape of their surface, rather than queueing them until
// every one is slow. Websockets (long-lived, cheap while idle), probes and agents'
// uploads (their own pool: limitUploads) are not counted. A request takes its slot
// once its body is in (bufferBodies), so a slow client never holds one. max <= 0
// turns the cap off.
func limitConcurrency(max int, m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if max <= 0 {
			return next
		}
		slots := make(chan struct{}, max)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWebsocket(r) || isProbe(r) || isUpload(r) && auth.FromContext(r.Context()) != nil {
				next.ServeHTTP(w, r)
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				m.RequestShed()
				writeUnavailable(w, r, busy)
			}
		})
	}
}

// busy is the message of a 503 for a full server.
const busy = "the server is busy; try again shortly"

// writeUnavailable answers 503 in the error shape of the request's surface: GraphQL's
// errors list with code UNAVAILABLE on /graphql, NestJS's everywhere else.
func writeUnavailable(w http.ResponseWriter, r *http.Request, msg string) {
	if r.URL.Path != "/graphql" {
		rest.WriteError(w, r, nil, apperr.New(apperr.Unavailable, "%s", msg))
		return
	}
	w.Header().Set("Retry-After", rest.RetryAfterSeconds)
	writeGraphQLError(w, http.StatusServiceUnavailable, msg, "UNAVAILABLE")
}

// writeGraphQLError writes a GraphQL response with one error and no data.
func writeGraphQLError(w http.ResponseWriter, status int, msg, code string) {
	ext := map[string]any{"code": code}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err == nil && code == "RATE_LIMITED" {
		// Every RATE_LIMITED says when to come back, as the resolvers' do.
		ext["retryAfter"] = s
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": ext}},
		"data":   nil,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// jsonCSP is the Content-Security-Policy of everything but the playground: the API
// answers JSON, which a browser must never run, style or frame.
const jsonCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets the headers every answer carries. Handlers may override them
// (media files set their own sandboxing CSP). The playground is an HTML page with
// scripts and styles, so it is left without the JSON CSP.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/playground") {
			h.Set("Content-Security-Policy", jsonCSP)
		}
		next.ServeHTTP(w, r)
	})
}

// corsFor allows the browser origins of CORS_ORIGINS (patterns such as
// https://*.example.com work) to call the API with a bearer token. No cookies are
// used, so credentials stay off. With no origins configured it adds nothing: the
// API is same-origin only (rs/cors would otherwise allow every origin).
func corsFor(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-ID",
			"Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		ExposedHeaders: []string{"X-Request-ID", "Retry-After", "Content-Disposition"},
		MaxAge:         600,
	})
	return c.Handler
}
