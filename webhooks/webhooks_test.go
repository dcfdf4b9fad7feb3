package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks specification's reference libraries.
func TestSign_SpecificationExample(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestNewSecret_IsWhsecWith32Bytes(t *testing.T) {
	s := NewSecret()
	k, err := key(s)
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(k) != 32 || NewSecret() == s {
		t.Errorf("secret %q: key %d bytes, err %v", s, len(k), err)
	}
}

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false}, // ULA
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"100.64.0.1", false}, // CGNAT
		{"100.127.255.254", false},
		{"100.128.0.1", true},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
	} {
		if got := PublicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	strict := Policy{RequireHTTPS: true}
	for _, tc := range []struct {
		p      Policy
		url    string
		wantOK bool
	}{
		{strict, "https://8.8.8.8/hook", true},
		{strict, "http://8.8.8.8/hook", false},
		{Policy{}, "http://8.8.8.8/hook", true},
		{strict, "https://127.0.0.1/hook", false},
		{strict, "https://[::1]/hook", false},
		{strict, "https://[::ffff:10.0.0.1]/hook", false},
		{strict, "https://localhost/hook", false},
		{strict, "ftp://8.8.8.8/", false},
		{strict, "/relative", false},
		{strict, "https://user:pw@8.8.8.8/", false},
		{Policy{AllowPrivate: true, RequireHTTPS: true}, "http://127.0.0.1:9/hook", true},
	} {
		if msg := tc.p.CheckURL(ctx, tc.url); (msg == "") != tc.wantOK {
			t.Errorf("%+v CheckURL(%s) = %q, want ok %v", tc.p, tc.url, msg, tc.wantOK)
		}
	}
}

// The rule is applied to the address dialled, whatever the URL said.
func TestClient_DialerRefusesLoopbackUnlessAllowed(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++ }))
	defer srv.Close()
	m := Message{URL: srv.URL, Secret: NewSecret(), ID: "1", Timestamp: time.Now(), Body: []byte(`{}`)}
	res := NewClient(Policy{}, time.Second).Send(context.Background(), m)
	if res.OK() || !strings.Contains(res.Err, "refused") || hits != 0 {
		t.Errorf("strict client: %+v, %d hits", res, hits)
	}
	_, err := Policy{}.Dialer().Dial("tcp", srv.Listener.Addr().String())
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("dial 127.0.0.1: %v", err)
	}
	res = NewClient(Policy{AllowPrivate: true}, time.Second).Send(context.Background(), m)
	if !res.OK() || hits != 1 {
		t.Errorf("allowing client: %+v, %d hits", res, hits)
	}
}

func TestClient_RedirectIsAFailureAndBodyIsCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(strings.Repeat("é", 2000)))
	}))
	defer srv.Close()
	c := NewClient(Policy{AllowPrivate: true}, time.Second)
	res := c.Send(context.Background(), Message{URL: srv.URL + "/moved", Secret: NewSecret(), ID: "1", Timestamp: time.Now()})
	if res.OK() || res.Status != http.StatusFound {
		t.Errorf("redirect: %+v", res)
	}
	res = c.Send(context.Background(), Message{URL: srv.URL + "/fail", Secret: NewSecret(), ID: "1", Timestamp: time.Now()})
	if res.OK() || res.Status != 500 || len(res.Body) > MaxLoggedBody || len(res.Body) < MaxLoggedBody-4 {
		t.Errorf("500: status %d, %d bytes of body", res.Status, len(res.Body))
	}
}

func TestClient_TimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	res := NewClient(Policy{AllowPrivate: true}, 200*time.Millisecond).Send(context.Background(),
		Message{URL: srv.URL, Secret: NewSecret(), ID: "1", Timestamp: time.Now()})
	if res.OK() || !strings.Contains(res.Err, "timed out") || res.Duration > 2*time.Second {
		t.Errorf("%+v", res)
	}
}
