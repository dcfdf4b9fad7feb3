package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/twilio"
)

// adopt asks the provider whether an earlier attempt of d, whose outcome was never
// learnt (a timeout or a cut connection after the request, or a worker that died
// mid-call), already gave it the message. If so, the provider's message is recorded
// as this one's (its sid adopted) and nothing is sent. It reports whether the
// delivery is settled: adopted, or put back because the provider could not be
// asked (sending blindly could duplicate). False means: not there, send it.
func (p *Pool) adopt(ctx context.Context, log *slog.Logger, d *db.Delivery, o *db.Outbound, m *twilio.Message) bool {
	f, ok := p.cfg.Provider.(Finder)
	if !ok {
		return false
	}
	since := d.CreatedAt
	if d.FirstAttemptAt != nil {
		since = *d.FirstAttemptAt
	}
	body := m.Body
	if m.ContentSID != "" && o.Content != nil {
		// The provider lists a template message with its rendered text.
		body = *o.Content
	}
	lctx, cancel := context.WithTimeout(ctx, p.cfg.Lease/2)
	found, err := f.FindSent(lctx, twilio.Match{From: m.From, To: m.To, Body: body, NumMedia: len(m.MediaURLs), Since: since})
	cancel()
	if err == nil && len(found) > 0 {
		found, err = p.unclaimed(ctx, found)
	}
	switch {
	case err != nil && d.Attempts >= p.cfg.MaxAttempts:
		// Never knowing is not a reason to keep it forever.
		p.fail(ctx, log, d, nil, fmt.Errorf("gave up after %d attempts; the provider could not be asked about an earlier one: %w", d.Attempts, err))
		return true
	case err != nil:
		p.retry(ctx, log, d, fmt.Errorf("ask the provider about an earlier attempt: %w", err), true)
		return true
	case len(found) == 0:
		log.Info("an earlier attempt did not reach the provider; sending again")
		return false
	}
	// Oldest first among the provider's unclaimed matches: the earliest attempt.
	res := found[len(found)-1]
	log.Warn("an earlier attempt reached the provider; adopting its message instead of sending again", "sid", res.SID)
	p.succeed(ctx, log, d, res)
	return true
}

// unclaimed leaves out the matches whose sid another message of ours already
// carries (the same text sent twice to the same contact).
func (p *Pool) unclaimed(ctx context.Context, found []*twilio.Result) ([]*twilio.Result, error) {
	sids := make([]string, len(found))
	for i, r := range found {
		sids[i] = r.SID
	}
	known, err := db.KnownProviderSIDs(ctx, p.cfg.DB, sids)
	if err != nil {
		return nil, err
	}
	out := found[:0]
	for _, r := range found {
		if !known[r.SID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// statusCallback is the StatusCallback URL of one message: base with the message's
// id, so a callback names the message whatever sid it carries, even for an attempt
// whose answer never reached us (the status webhook adopts that sid).
func statusCallback(base string, id uuid.UUID) string {
	if base == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("mid", db.HexID(id))
	u.RawQuery = q.Encode()
	return u.String()
}
