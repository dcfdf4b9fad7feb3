package media

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"net/url"
)

// NewFetchClientForTest is newFetchClient, for tests that need loopback "public"
// servers or a test TLS root.
func NewFetchClientForTest(apiBase string, addrOK func(netip.Addr) bool, tlsConf *tls.Config) *http.Client {
	return newFetchClient(apiBase, addrOK, tlsConf)
}

// CheckHopForTest applies the redirect rules of downloads from apiBase to raw.
func CheckHopForTest(raw, apiBase string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return checkHop(u, originAddr(apiBase), publicAddr)
}
