package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/jobs"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/twilio"
)

// maxLastError bounds the error text kept on a delivery row.
const maxLastError = 1000

// deliver sends one claimed message and records the outcome. It ignores the pool's
// cancellation: a send in flight when the pool stops finishes and is recorded, or
// the message would be sent again by the next claimer.
func (p *Pool) deliver(parent context.Context, j job) {
	ctx := context.WithoutCancel(parent)
	d, o := j.d, j.out
	log := p.log.With("message_id", db.HexID(d.MessageID), "company_id", d.CompanyID, "attempt", d.Attempts)
	switch {
	case o == nil:
		// Deleted since it was queued, or its delivery row names another company.
		log.Warn("queued message not found; dropping its delivery")
		p.cfg.Metrics.Delivery(metrics.DeliveryDropped)
		p.commit(ctx, log, "dropped", func(ctx context.Context) error {
			return p.cfg.Resolver.DropDelivery(ctx, d.MessageID)
		})
		return
	case o.ProviderSID != nil || o.Status != db.StatusPending:
		// An earlier claimer handed it over or gave it up: never send it twice.
		log.Info("queued message already handled; dropping its delivery", "status", o.Status)
		p.cfg.Metrics.Delivery(metrics.DeliveryDropped)
		p.commit(ctx, log, "dropped", func(ctx context.Context) error {
			return p.cfg.Resolver.DropDelivery(ctx, d.MessageID)
		})
		return
	}
	m, err := p.message(o)
	if err != nil {
		p.fail(ctx, log, d, nil, err)
		return
	}
	// An earlier attempt may have reached the provider without our learning it:
	// adopt that message rather than send a second one.
	if d.CheckProvider && p.adopt(ctx, log, d, o, m) {
		return
	}
	if d.Attempts > p.cfg.MaxAttempts {
		// Claimed that often without any outcome recorded: its workers died mid-send.
		p.fail(ctx, log, d, nil, fmt.Errorf("no outcome after %d claims", d.Attempts-1))
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, p.cfg.Lease/2)
	res, err := p.cfg.Provider.Send(sendCtx, m)
	cancel()
	switch {
	case err == nil:
		p.succeed(ctx, log, d, res)
	case twilio.IsPermanent(err):
		p.fail(ctx, log, d, providerCode(err), err)
	case d.Attempts >= p.cfg.MaxAttempts && !twilio.IsAmbiguous(err):
		p.fail(ctx, log, d, providerCode(err), fmt.Errorf("gave up after %d attempts: %w", d.Attempts, err))
	default:
		// After an ambiguous failure the next claim asks the provider first (and, past
		// MaxAttempts, fails the message only if the provider does not have it).
		p.retry(ctx, log, d, err, twilio.IsAmbiguous(err))
	}
}

// message builds what the provider gets from a stored message.
func (p *Pool) message(o *db.Outbound) (*twilio.Message, error) {
	if o.CompanyNumber == nil || *o.CompanyNumber == "" {
		return nil, errors.New("the company has no WhatsApp sender number")
	}
	if o.ContactPhone == nil || *o.ContactPhone == "" {
		return nil, errors.New("the contact has no phone number")
	}
	m := &twilio.Message{
		From:           whatsappAddress(*o.CompanyNumber),
		To:             whatsappAddress(*o.ContactPhone),
		StatusCallback: statusCallback(p.cfg.StatusCallbackURL, o.MessageID),
	}
	if o.ContentSID != nil && *o.ContentSID != "" {
		// An approved template travels by reference; its media, if any, is part of
		// the template, so no MediaUrl goes with it.
		m.ContentSID = *o.ContentSID
		m.ContentVariables = o.TemplateParams
		return m, nil
	}
	if o.Content != nil {
		m.Body = *o.Content
	}
	for _, a := range o.Attachments {
		if u := p.mediaURL(a); u != "" {
			m.MediaURLs = append(m.MediaURLs, u)
		}
	}
	if m.Body == "" && len(m.MediaURLs) == 0 {
		return nil, errors.New("nothing to send: no text, no template and no reachable media")
	}
	return m, nil
}

func (p *Pool) mediaURL(a *db.Attachment) string {
	if p.cfg.MediaURL != nil {
		return p.cfg.MediaURL(a)
	}
	if a.SourceURL != nil {
		return *a.SourceURL
	}
	return ""
}

// whatsappAddress is a number in Twilio's WhatsApp address form, "whatsapp:+…".
func whatsappAddress(number string) string {
	if strings.HasPrefix(number, "whatsapp:") {
		return number
	}
	return "whatsapp:" + number
}

// succeed records the provider's id and status through the business layer: with
// the other accepted sends of the moment (record.go), or on its own when the answer
// is a failure or the batch could not be recorded. The status callbacks held back
// for the id are applied too, and the outbox row removed.
func (p *Pool) succeed(ctx context.Context, log *slog.Logger, d *db.Delivery, res *twilio.Result) {
	status, known := twilio.Status(res.Status)
	if !known {
		// A status Twilio added since: it took the message.
		status = db.StatusQueued
	}
	failed := db.IsFailure(status)
	log.Debug("message handed to the provider", "sid", res.SID, "provider_status", res.Status)
	if failed {
		p.cfg.Metrics.Delivery(metrics.DeliveryFailed)
	} else {
		p.cfg.Metrics.Delivery(metrics.DeliverySent)
	}
	if !failed && p.accepted != nil {
		a := &accepted{d: d, sid: res.SID, status: status, log: log, done: make(chan struct{})}
		p.accepted <- a
		<-a.done
		if a.recorded {
			return
		}
	}
	var code *string
	if res.ErrorCode != "" {
		code = &res.ErrorCode
	}
	p.recordOne(ctx, log, d, res.SID, status, code)
}

// fail marks the message FAILED with the provider's error code (nil when there is
// none), removes the delivery and publishes the change.
func (p *Pool) fail(ctx context.Context, log *slog.Logger, d *db.Delivery, code *string, reason error) {
	log.Warn("message failed", "err", reason, "error_code", code)
	p.cfg.Metrics.Delivery(metrics.DeliveryFailed)
	p.commit(ctx, log, "failed", func(ctx context.Context) error {
		return p.cfg.Resolver.FailDelivery(ctx, d.CompanyID, d.MessageID, code)
	})
}

// retry puts the message back in the queue after a backoff, and wakes this pool
// then, so a retry does not wait for the next poll. uncertain says the provider may
// have the message after all: the next attempt asks it first.
func (p *Pool) retry(ctx context.Context, log *slog.Logger, d *db.Delivery, cause error, uncertain bool) {
	delay := p.backoff(d.Attempts)
	var te *twilio.Error
	if errors.As(cause, &te) && te.HTTPStatus == 401 {
		log.Error("the provider refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", "err", cause)
	}
	log.Warn("temporary failure; retrying later", "err", cause, "retry_in", delay)
	p.cfg.Metrics.Delivery(metrics.DeliveryRetried)
	msg := cause.Error()
	if len(msg) > maxLastError {
		msg = msg[:maxLastError]
	}
	rctx, cancel := context.WithTimeout(ctx, p.cfg.Lease/2)
	defer cancel()
	kept, err := db.RetryDelivery(rctx, p.cfg.DB, d.MessageID, d.Attempts, delay, strings.ToValidUTF8(msg, "?"), uncertain)
	switch {
	case err != nil:
		// The lease still runs out and the message is claimed again then.
		log.Error("schedule retry", "err", err)
	case !kept:
		log.Warn("delivery was claimed again meanwhile; leaving it to that worker")
	default:
		p.jobs.WakeAfter(delay)
	}
}

// backoff is the wait after the given attempt: BackoffBase doubled per attempt,
// capped at BackoffMax, with ±20 % jitter so failed messages do not retry in step.
func (p *Pool) backoff(attempt int) time.Duration {
	return jobs.Backoff{Base: p.cfg.BackoffBase, Max: p.cfg.BackoffMax, Jitter: 0.2}.Delay(attempt)
}

// commit runs fn, which records an outcome through the business layer, trying again
// for up to half a lease: after a send, an outcome not recorded means the message
// is claimed and sent again.
func (p *Pool) commit(ctx context.Context, log *slog.Logger, outcome string, fn func(context.Context) error) {
	deadline := time.Now().Add(p.cfg.Lease / 2)
	wait := 100 * time.Millisecond
	for {
		tctx, cancel := context.WithDeadline(ctx, deadline)
		err := fn(tctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().Add(wait).After(deadline) {
			log.Error("cannot record the delivery outcome; the message will be tried again after its lease",
				"outcome", outcome, "err", err)
			return
		}
		log.Warn("record the delivery outcome; trying again", "outcome", outcome, "err", err)
		time.Sleep(wait)
		wait *= 2
	}
}

// providerCode is the provider's error code carried by err, if any.
func providerCode(err error) *string {
	var te *twilio.Error
	if errors.As(err, &te) && te.Code != 0 {
		s := strconv.Itoa(te.Code)
		return &s
	}
	return nil
}
