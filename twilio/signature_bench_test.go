package twilio

import (
	"net/url"
	"testing"
)

// Micro-benchmarks of the webhook signature check, which runs on every inbound
// message and status callback. Run only with -bench:
//
//	go test -run '^$' -bench . -benchmem ./twilio/

// inboundParams is a typical inbound WhatsApp message as Twilio posts it.
var inboundParams = url.Values{
	"SmsMessageSid": {"SM5f3b0a4c7d2e4f1a9b8c7d6e5f4a3b2c"}, "NumMedia": {"0"}, "ProfileName": {"Madhawa"},
	"MessageType": {"text"}, "SmsSid": {"SM5f3b0a4c7d2e4f1a9b8c7d6e5f4a3b2c"}, "WaId": {"94717936775"},
	"SmsStatus": {"received"}, "Body": {"Hi, is my order on its way? It was supposed to arrive yesterday."},
	"To": {"whatsapp:+14155238886"}, "NumSegments": {"1"}, "ReferralNumMedia": {"0"},
	"MessageSid": {"SM5f3b0a4c7d2e4f1a9b8c7d6e5f4a3b2c"}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"},
	"From": {"whatsapp:+94717936775"}, "ApiVersion": {"2010-04-01"},
}

const benchToken, benchURL = "0123456789abcdef0123456789abcdef", "https://api.example.com/message/messagein"

func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(benchToken, benchURL, inboundParams)
	}
}

func BenchmarkValidSignature(b *testing.B) {
	sig := Sign(benchToken, benchURL, inboundParams)
	b.ReportAllocs()
	for b.Loop() {
		if !ValidSignature(benchToken, benchURL, inboundParams, sig) {
			b.Fatal("signature refused")
		}
	}
}
