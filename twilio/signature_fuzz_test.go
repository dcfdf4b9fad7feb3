package twilio

import (
	"net/url"
	"testing"
)

// FuzzValidSignature checks, for any URL, token and parameters, that a signature made
// by Sign is accepted, that it is refused once any signed input changes, and that an
// arbitrary signature string never panics the check.
func FuzzValidSignature(f *testing.F) {
	f.Add(docToken, docURL, "Digits", "1234", "From", "+14158675309", docSig)
	f.Add("secret", "https://connectme.example/message/messagein", "Body", "héllo", "Body", "again", "")
	f.Add("t", "http://[::1]:8080/x?y", "", "", "k", "\x00", "////")
	f.Add("t", "https://u@h:99999/", "MediaUrl0", "https://a/b", "NumMedia", "1", "=====")
	f.Fuzz(func(t *testing.T, token, u, k1, v1, k2, v2, arbitrary string) {
		params := url.Values{}
		params.Add(k1, v1)
		params.Add(k2, v2)
		_ = ValidSignature(token, u, params, arbitrary)
		_ = ValidBodySignature(token, u, []byte(v1), arbitrary)
		if token == "" {
			if ValidSignature(token, u, params, Sign(token, u, params)) {
				t.Fatal("an empty token must never validate")
			}
			return
		}
		sig := Sign(token, u, params)
		if !ValidSignature(token, u, params, sig) {
			t.Fatalf("own signature refused: token %q url %q params %v", token, u, params)
		}
		changed := url.Values{}
		changed.Add(k1, v1+"x")
		changed.Add(k2, v2)
		if ValidSignature(token, u, changed, sig) {
			t.Fatalf("signature survives a changed value: %v", changed)
		}
		if ValidSignature(token+"x", u, params, sig) {
			t.Fatal("signature survives another token")
		}
	})
}
