// Package twilio is CONNECTME's side of the provider, Twilio's WhatsApp API. The
// signature*.go files check that a webhook call really comes from Twilio.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader is the request header that carries Twilio's signature.
const SignatureHeader = "X-Twilio-Signature"

// BodyHashParam is the query parameter Twilio adds to the URL of a JSON webhook: the
// hex SHA-256 of the body, so that signing the URL also covers the body.
const BodyHashParam = "bodySHA256"

// ErrBadSignature is returned for a webhook call whose signature is missing or wrong.
var ErrBadSignature = errors.New("twilio: missing or invalid " + SignatureHeader)

// Sign returns Twilio's signature of a call of fullURL (scheme, host, path and query,
// exactly as Twilio called it) posting the form params (nil for none): the base64
// HMAC-SHA1, keyed by the auth token, of the URL followed by every parameter sorted
// by name, each as its name immediately followed by its value. A repeated name
// contributes all its values, sorted.
func Sign(authToken, fullURL string, params url.Values) string {
	// The signed text is built in one buffer and hashed at once: writing each name
	// and value to the MAC separately cost an allocation apiece (every inbound
	// message is checked, twice when the URL has a port variant).
	size := len(fullURL)
	names := make([]string, 0, len(params))
	for k, vs := range params {
		names = append(names, k)
		for _, v := range vs {
			size += len(k) + len(v)
		}
	}
	// Byte order of UTF-8 is Unicode code point order, which is what Twilio uses.
	sort.Strings(names)
	buf := make([]byte, 0, size)
	buf = append(buf, fullURL...)
	for _, k := range names {
		values := params[k]
		if !sort.StringsAreSorted(values) {
			values = append([]string(nil), values...)
			sort.Strings(values)
		}
		for _, v := range values {
			buf = append(buf, k...)
			buf = append(buf, v...)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(buf)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether sig is Twilio's signature of a call of fullURL with
// the form params. Like Twilio's own validators it accepts the URL with and without
// its port, because Twilio has signed both forms.
func ValidSignature(authToken, fullURL string, params url.Values, sig string) bool {
	if authToken == "" || sig == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(fullURL) {
		// No early return: every variant costs the same, whichever matches.
		if hmac.Equal([]byte(Sign(authToken, u, params)), []byte(sig)) {
			ok = true
		}
	}
	return ok
}

// ValidBodySignature reports whether sig is Twilio's signature of a JSON call of
// fullURL with the given body. Twilio signs only the URL then, and the URL carries
// bodySHA256, the hex SHA-256 of the body, which must match too.
func ValidBodySignature(authToken, fullURL string, body []byte, sig string) bool {
	u, err := url.Parse(fullURL)
	if err != nil {
		return false
	}
	want := strings.ToLower(u.Query().Get(BodyHashParam))
	if want == "" {
		return false
	}
	sum := sha256.Sum256(body)
	bodyOK := hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(want))
	sigOK := ValidSignature(authToken, fullURL, nil, sig)
	return bodyOK && sigOK
}

// urlVariants returns fullURL as given, and with its port removed (when it has one)
// or the scheme's default port added (when it has none). Only the host part of the
// string changes, so the path and query keep the exact bytes Twilio signed.
func urlVariants(fullURL string) []string {
	schemeEnd := strings.Index(fullURL, "://")
	if schemeEnd < 0 {
		return []string{fullURL}
	}
	scheme := strings.ToLower(fullURL[:schemeEnd])
	rest := fullURL[schemeEnd+3:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	authority, tail := rest[:authEnd], rest[authEnd:]
	userinfo := ""
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	build := func(hostport string) string {
		return fullURL[:schemeEnd+3] + userinfo + hostport + tail
	}
	if host, port, err := net.SplitHostPort(authority); err == nil && port != "" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return []string{fullURL, build(host)}
	}
	defaultPort := map[string]string{"https": "443", "http": "80"}[scheme]
	if defaultPort == "" || authority == "" {
		return []string{fullURL}
	}
	return []string{fullURL, build(authority + ":" + defaultPort)}
}

// Verifier checks the signatures of the webhook calls this server receives. Its zero
// value (no auth token, as in development) accepts every call.
type Verifier struct {
	// AuthToken is TWILIO_AUTH_TOKEN; empty turns verification off.
	AuthToken string
	// PublicBaseURL is PUBLIC_BASE_URL: the server sits behind proxies, so the URL
	// Twilio called is rebuilt from configuration, never from the Host header.
	PublicBaseURL string
}

// Enabled reports whether calls must be signed.
func (v Verifier) Enabled() bool { return v.AuthToken != "" }

// URL returns the URL Twilio called to make r: PUBLIC_BASE_URL, then the path and the
// raw query as received.
func (v Verifier) URL(r *http.Request) string {
	return strings.TrimRight(v.PublicBaseURL, "/") + r.URL.RequestURI()
}

// VerifyForm checks the signature of a form post whose decoded body is params.
func (v Verifier) VerifyForm(r *http.Request, params url.Values) error {
	if !v.Enabled() {
		return nil
	}
	if !ValidSignature(v.AuthToken, v.URL(r), params, r.Header.Get(SignatureHeader)) {
		return ErrBadSignature
	}
	return nil
}

// VerifyJSON checks the signature of a JSON post whose raw body is body.
func (v Verifier) VerifyJSON(r *http.Request, body []byte) error {
	if !v.Enabled() {
		return nil
	}
	if !ValidBodySignature(v.AuthToken, v.URL(r), body, r.Header.Get(SignatureHeader)) {
		return ErrBadSignature
	}
	return nil
}
