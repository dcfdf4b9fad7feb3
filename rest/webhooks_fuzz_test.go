package rest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/resolvers"
)

// FuzzDecodeInbound feeds arbitrary bodies to the webhook decoding: it must never
// panic, must refuse with a validation error (a 400, never a 500), and whatever it
// accepts must have NumMedia agree with the media fields.
func FuzzDecodeInbound(f *testing.F) {
	f.Add([]byte("MessageSid=SM1&From=whatsapp%3A%2B94717936775&To=whatsapp%3A%2B14155238886&Body=hi&NumMedia=0"), false)
	f.Add([]byte("MessageSid=SM1&NumMedia=2&MediaUrl0=https%3A%2F%2Fa%2F0&MediaContentType0=image%2Fjpeg&MediaUrl1=https%3A%2F%2Fa%2F1"), false)
	f.Add([]byte("NumMedia=1&MediaUrl5=x&MediaUrl0=y&MediaContentType01=z"), false)
	f.Add([]byte("NumMedia=99999999999999999999&MediaUrl=&MediaContentType-1=a"), false)
	f.Add([]byte("a=%zz;b&&=&MessageSid=1&MessageSid=2"), false)
	f.Add([]byte(`{"MessageSid":"SM1","NumMedia":1,"MediaUrl0":"https://a/0","Body":null,"X":[1,{}]}`), true)
	f.Add([]byte(`{"NumMedia":"1e3","MediaUrl0":true,"From":{"a":1}}`), true)
	f.Add([]byte(`[1,2]`), true)
	f.Add([]byte("\x00\xff"), false)
	f.Fuzz(func(t *testing.T, raw []byte, isJSON bool) {
		b, err := decodeWebhook(isJSON, raw)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		_, _, _ = b.get("MessageSid"), b.get("MessageStatus"), b.get("ErrorCode")
		b.v = apperr.Validation{}
		in, err := b.inbound()
		if err != nil {
			requireInvalid(t, err)
			return
		}
		if len(in.Media) > resolvers.MaxInboundMedia {
			t.Fatalf("%d media accepted", len(in.Media))
		}
		for i, m := range in.Media {
			if strings.TrimSpace(m.URL) == "" {
				t.Fatalf("media %d accepted without a URL", i)
			}
		}
		for _, k := range b.keys() {
			if i, isMedia := mediaIndex(k); isMedia && (i < 0 || i >= len(in.Media)) {
				t.Fatalf("%s accepted with NumMedia %d", k, len(in.Media))
			}
		}
		if !isJSON {
			if n := b.form.Get("NumMedia"); n != "" {
				if want, _ := strconv.Atoi(strings.TrimSpace(n)); want != len(in.Media) {
					t.Fatalf("NumMedia %q but %d media", n, len(in.Media))
				}
			}
		}
	})
}

func requireInvalid(t *testing.T, err error) {
	t.Helper()
	if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || len(e.Details) == 0 {
		t.Fatalf("refused with %v, want a validation error", err)
	}
}
