package media_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/media"
)

// internalServer is a page inside our network that must never be fetched; it counts
// the requests it gets.
func internalServer(t *testing.T, tlsToo bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(pngFile) // a valid file: only the policy can stop it being stored
	})
	var s *httptest.Server
	if tlsToo {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &hits
}

// Hardening item 11: a provider redirect to 127.0.0.1 on another port (or any other
// address that is not public, by IP or by name) is not followed, and nothing is stored.
func TestFetcher_RedirectToAnInternalAddressIsRefused(t *testing.T) {
	plain, plainHits := internalServer(t, false)
	secure, secureHits := internalServer(t, true)
	targets := map[string]string{
		"loopback on another port":       plain.URL + "/admin",
		"https loopback on another port": secure.URL + "/admin",
		"localhost by name":              strings.Replace(secure.URL, "127.0.0.1", "localhost", 1) + "/admin",
		"cloud metadata":                 "https://169.254.169.254/latest/meta-data/",
		"user info":                      "https://user:pw@example.com/x",
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, http.StatusFound)
			})
			a := e.pending(t, e.mediaURL("ME1"))
			e.runOnce(t)
			got := e.reload(t, a.ID)
			if got.State == db.AttachmentStored || got.LastError == nil || !strings.Contains(*got.LastError, "redirect refused") {
				t.Fatalf("state %s, last error %v; want a refused redirect", got.State, got.LastError)
			}
		})
	}
	if n := plainHits.Load() + secureHits.Load(); n != 0 {
		t.Errorf("the internal servers were requested %d times", n)
	}
}

// A name that resolves to a private address is refused when the connection is
// dialled, whatever the redirect check saw.
func TestFetchClient_DialRefusesNamesThatResolveToPrivateAddresses(t *testing.T) {
	internal, hits := internalServer(t, false)
	c := media.NewFetchClientForTest("https://api.twilio.com", nil, nil)
	resp, err := c.Get(strings.Replace(internal.URL, "127.0.0.1", "localhost", 1) + "/x")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the client reached a loopback address")
	}
	if !errors.Is(err, media.ErrRedirectRefused) || hits.Load() != 0 {
		t.Errorf("err = %v, hits %d", err, hits.Load())
	}
}

// The credentials go to the provider's origin only: not to the same host on another
// port and scheme (Go's client would send them there), even when the target is allowed.
func TestFetcher_CredentialsAreNotSentToAnotherHostOrPort(t *testing.T) {
	var sawAuth atomic.Bool
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		_, _ = w.Write(pngFile)
	}))
	defer cdn.Close()
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/signed-object", http.StatusTemporaryRedirect)
	})
	roots := x509.NewCertPool()
	roots.AddCert(cdn.Certificate())
	// The test's "storage host" is on loopback: let the client treat it as public.
	anyAddr := func(netip.Addr) bool { return true }
	e.fetcher.Client = media.NewFetchClientForTest(e.provider.URL, anyAddr, &tls.Config{RootCAs: roots})
	a := e.pending(t, e.mediaURL("ME4"))
	e.runOnce(t)
	if got := e.reload(t, a.ID); got.State != db.AttachmentStored {
		t.Fatalf("state %s (%v), want STORED", got.State, got.LastError)
	}
	if sawAuth.Load() {
		t.Error("the provider credentials were sent to another port of the same host")
	}
}

// A redirect within the provider's origin is followed with the credentials.
func TestFetcher_SameOriginRedirectStillWorks(t *testing.T) {
	e := newFetchEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/files/") {
			_, _ = w.Write(pngFile)
			return
		}
		http.Redirect(w, r, "/files/ME5", http.StatusFound)
	})
	a := e.pending(t, e.mediaURL("ME5"))
	e.runOnce(t)
	if got := e.reload(t, a.ID); got.State != db.AttachmentStored {
		t.Fatalf("state %s (%v), want STORED", got.State, got.LastError)
	}
	if e.hitsOf("/files/ME5") != 1 {
		t.Errorf("the redirect target was requested %d times", e.hitsOf("/files/ME5"))
	}
}

func TestCheckHop_EveryRedirectIsCheckedLikeTheFirstURL(t *testing.T) {
	const provider = "http://127.0.0.1:8999"
	cases := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8999/files/1", true},
		{"https://mms.twiliocdn.com/AC1/abc", true},
		{"https://s3-external-1.amazonaws.com/media.twiliocdn.com/x", true},
		{"https://8.8.8.8/x", true},
		{"http://127.0.0.1:9000/admin", false},
		{"http://mms.twiliocdn.com/AC1/abc", false},
		{"ftp://mms.twiliocdn.com/x", false},
		{"https://user:pw@mms.twiliocdn.com/x", false},
		{"https://127.0.0.1/x", false},
		{"https://[::1]/x", false},
		{"https://10.1.2.3/x", false},
		{"https://172.20.0.1/x", false},
		{"https://192.168.1.1/x", false},
		{"https://100.64.0.1/x", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"https://[fd00::1]/x", false},
		{"https://[fe80::1]/x", false},
		{"https://[::ffff:127.0.0.1]/x", false},
		{"https://[64:ff9b::a9fe:a9fe]/x", false},
		{"https://0.0.0.0/x", false},
		{"https://localhost/x", false},
		{"https://api.localhost./x", false},
	}
	for _, tc := range cases {
		err := media.CheckHopForTest(tc.url, provider)
		if (err == nil) != tc.ok {
			t.Errorf("CheckHop(%s) = %v, want ok %v", tc.url, err, tc.ok)
		}
		if err != nil && !errors.Is(err, media.ErrRedirectRefused) {
			t.Errorf("CheckHop(%s) = %v, not ErrRedirectRefused", tc.url, err)
		}
	}
}
