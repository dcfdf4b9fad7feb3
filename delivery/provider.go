package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"github.com/connectme/connectme/twilio"
)

// Provider hands one message to the messaging provider. There are two: the Twilio
// client (*twilio.Client) and DevProvider, which lets the server run offline.
type Provider interface {
	// Send creates the message at the provider. An error for which
	// twilio.IsPermanent is true means retrying cannot help; any other is retried.
	Send(ctx context.Context, m *twilio.Message) (*twilio.Result, error)
}

// Finder is a Provider that can tell whether it already has a message: after an
// attempt whose outcome was lost, the pool asks before sending again
// (*twilio.Client is one). A Provider that is not a Finder is sent to again.
type Finder interface {
	// FindSent lists the provider's messages matching m, newest first.
	FindSent(ctx context.Context, m twilio.Match) ([]*twilio.Result, error)
}

// DevProvider is the development provider: it logs each message instead of sending
// it and answers "sent" with a fake id, so `make run` works with no credentials.
type DevProvider struct {
	// Log receives one line per message.
	Log *slog.Logger
}

// Send logs m and answers it sent, with a sid "SMdev<hex>".
func (p DevProvider) Send(ctx context.Context, m *twilio.Message) (*twilio.Result, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	sid := "SMdev" + hex.EncodeToString(b[:])
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "development provider: message logged, not sent",
		"sid", sid, "from", m.From, "to", m.To, "body", m.Body, "content_sid", m.ContentSID,
		"content_variables", m.ContentVariables, "media_urls", m.MediaURLs)
	return &twilio.Result{SID: sid, Status: "sent"}, nil
}
