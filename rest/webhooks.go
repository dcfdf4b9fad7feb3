package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/twilio"
)

// maxWebhookBody bounds webhook bodies. Twilio's largest (ten media items and a
// 1600-character text) is a few kilobytes.
const maxWebhookBody = 64 << 10

// inboundResponse is the 201 answer of POST /message/messagein. messageId is the
// stored message (or, for a repeated MessageSid, the one stored before).
type inboundResponse struct {
	Status    string `json:"status"`
	MessageID string `json:"messageId,omitempty"`
	Duplicate bool   `json:"duplicate"`
}

// webhookResponse is the 201 answer of POST /message/status.
type webhookResponse struct {
	Status string `json:"status"`
}

// messageIn is POST /message/messagein, the provider's inbound message webhook.
func (a *API) messageIn(w http.ResponseWriter, r *http.Request) {
	b, err := a.readWebhook(w, r)
	if err != nil {
		a.webhookFailed(w, r, "message", err)
		return
	}
	in, err := b.inbound()
	if err != nil {
		a.webhookFailed(w, r, "message", err)
		return
	}
	m, duplicate, err := a.R.ReceiveMessage(r.Context(), in)
	if err != nil {
		a.webhookFailed(w, r, "message", err)
		return
	}
	if duplicate {
		a.Metrics.Webhook("message", metrics.WebhookDuplicate)
	} else {
		a.Metrics.Webhook("message", metrics.WebhookAccepted)
	}
	resp := inboundResponse{Status: "ok", Duplicate: duplicate}
	if m != nil {
		resp.MessageID = m.HexID()
	}
	writeJSON(w, http.StatusCreated, resp)
}

// messageStatus is POST /message/status, the provider's delivery status webhook.
func (a *API) messageStatus(w http.ResponseWriter, r *http.Request) {
	b, err := a.readWebhook(w, r)
	if err != nil {
		a.webhookFailed(w, r, "status", err)
		return
	}
	sid, status, code := b.get("MessageSid"), b.get("MessageStatus"), b.get("ErrorCode")
	if err := b.v.Err(); err != nil {
		a.webhookFailed(w, r, "status", err)
		return
	}
	// mid is our message id, which the delivery put in the StatusCallback URL (the
	// URL is signed, query included). It can give an unsent message a sid (the send's
	// answer was lost), which takes it out of the outbox: trusted only when the
	// signature vouches for it. Without TWILIO_AUTH_TOKEN (development) anyone could
	// name any company's message, so it is ignored.
	mid := r.URL.Query().Get("mid")
	if !a.Webhooks.Enabled() {
		mid = ""
	}
	if err := a.R.ReceiveStatus(r.Context(), mid, sid, status, code); err != nil {
		a.webhookFailed(w, r, "status", err)
		return
	}
	a.Metrics.Webhook("status", metrics.WebhookAccepted)
	writeJSON(w, http.StatusCreated, webhookResponse{Status: "ok"})
}

// readWebhook reads a webhook call's body (bounded), decodes it and checks its
// signature. A JSON body is authenticated before it is parsed; a form body must be
// parsed first, because its parameters are part of what is signed.
func (a *API) readWebhook(w http.ResponseWriter, r *http.Request) (*webhookBody, error) {
	isJSON, err := webhookContentType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, apperr.Invalidf("request body could not be read")
	}
	if isJSON {
		if err := a.Webhooks.VerifyJSON(r, raw); err != nil {
			return nil, a.badSignature(r)
		}
	}
	b, err := decodeWebhook(isJSON, raw)
	if err != nil {
		return nil, err
	}
	if !isJSON {
		if err := a.Webhooks.VerifyForm(r, b.form); err != nil {
			return nil, a.badSignature(r)
		}
	}
	return b, nil
}

// badSignature logs a refused signature with the URL it was checked against (a wrong
// PUBLIC_BASE_URL refuses every call, and this line says why) and returns the 403.
func (a *API) badSignature(r *http.Request) error {
	if a.Log != nil {
		a.Log.WarnContext(r.Context(), "webhook refused: invalid or missing "+twilio.SignatureHeader,
			"checked_url", a.Webhooks.URL(r))
	}
	return errBadSignature
}

// errBadSignature is the 403 of a webhook call whose signature does not check out.
var errBadSignature = apperr.New(apperr.Forbidden, "invalid or missing %s", twilio.SignatureHeader)

// webhookFailed counts a refused or failed webhook call by why, and answers it.
func (a *API) webhookFailed(w http.ResponseWriter, r *http.Request, kind string, err error) {
	var tooLarge *http.MaxBytesError
	switch code := apperr.CodeOf(err); {
	case errors.Is(err, errBadSignature):
		a.Metrics.Webhook(kind, metrics.WebhookBadSignature)
	case errors.As(err, &tooLarge), code != apperr.Internal && code != apperr.Unavailable:
		a.Metrics.Webhook(kind, metrics.WebhookRejected)
	default:
		a.Metrics.Webhook(kind, metrics.WebhookError)
	}
	a.fail(w, r, err)
}

// webhookContentType accepts the provider's form encoding and JSON, and reports which.
func webhookContentType(header string) (isJSON bool, err error) {
	mt, _, perr := mime.ParseMediaType(header)
	switch {
	case perr == nil && mt == "application/x-www-form-urlencoded":
		return false, nil
	case perr == nil && mt == "application/json":
		return true, nil
	}
	return false, apperr.Invalidf("Content-Type must be application/x-www-form-urlencoded or application/json")
}

// webhookBody is a decoded webhook body: the parameters of a form post, or the
// members of a JSON object (Twilio's parameter names either way).
type webhookBody struct {
	form url.Values
	json map[string]json.RawMessage
	v    apperr.Validation
}

// decodeWebhook decodes a form or JSON body. Anything malformed is a 400.
func decodeWebhook(isJSON bool, raw []byte) (*webhookBody, error) {
	b := &webhookBody{}
	if isJSON {
		if err := checkJSON(raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &b.json); err != nil || b.json == nil {
			return nil, apperr.Invalidf("request body must be a JSON object")
		}
		return b, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, apperr.Invalidf("request body must be form encoded (application/x-www-form-urlencoded)")
	}
	b.form = form
	return b, nil
}

// keys returns the body's parameter names, sorted so that messages come in a stable
// order.
func (b *webhookBody) keys() []string {
	var ks []string
	for k := range b.form {
		ks = append(ks, k)
	}
	for k := range b.json {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// get returns a parameter's value, "" when absent. A form parameter given twice, or
// a JSON member that is not a string or number, is recorded as invalid.
func (b *webhookBody) get(name string) string {
	if b.json == nil {
		vals := b.form[name]
		if len(vals) > 1 {
			b.v.Addf("%s must be given once", name)
		}
		if len(vals) == 0 {
			return ""
		}
		return vals[0]
	}
	raw, ok := b.json[name]
	if !ok || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	b.v.Addf("%s must be a string", name)
	return ""
}

// inbound reads Twilio's inbound message parameters. NumMedia must agree with the
// MediaUrl{i}/MediaContentType{i} parameters: every item below it present, none at
// or above it.
func (b *webhookBody) inbound() (resolvers.InboundMessage, error) {
	in := resolvers.InboundMessage{
		MessageSID:    b.get("MessageSid"),
		From:          b.get("From"),
		To:            b.get("To"),
		Body:          b.get("Body"),
		ProfileName:   b.get("ProfileName"),
		RepliedSID:    b.get("OriginalRepliedMessageSid"),
		Latitude:      b.get("Latitude"),
		Longitude:     b.get("Longitude"),
		Address:       b.get("Address"),
		Label:         b.get("Label"),
		ButtonText:    b.get("ButtonText"),
		ButtonPayload: b.get("ButtonPayload"),
		Referral: resolvers.InboundReferral{
			SourceType: b.get("ReferralSourceType"),
			SourceID:   b.get("ReferralSourceId"),
			SourceURL:  b.get("ReferralSourceUrl"),
			Headline:   b.get("ReferralHeadline"),
			Body:       b.get("ReferralBody"),
		},
	}
	n := 0
	if s := strings.TrimSpace(b.get("NumMedia")); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 || n > resolvers.MaxInboundMedia {
			b.v.Addf("NumMedia must be a whole number from 0 to %d", resolvers.MaxInboundMedia)
			return in, b.v.Err()
		}
	}
	for i := 0; i < n; i++ {
		u := b.get(fmt.Sprintf("MediaUrl%d", i))
		if strings.TrimSpace(u) == "" {
			b.v.Addf("MediaUrl%d should not be empty (NumMedia is %d)", i, n)
		}
		in.Media = append(in.Media, resolvers.InboundMedia{URL: u, ContentType: b.get(fmt.Sprintf("MediaContentType%d", i))})
	}
	for _, k := range b.keys() {
		if i, isMedia := mediaIndex(k); isMedia && (i < 0 || i >= n) {
			b.v.Addf("%s does not match NumMedia %d", k, n)
		}
	}
	return in, b.v.Err()
}

// mediaIndex recognises MediaUrl{i} and MediaContentType{i}; i is -1 when the suffix
// is not a canonical index (e.g. "MediaUrl01" or "MediaUrlx").
func mediaIndex(key string) (int, bool) {
	var suffix string
	switch {
	case strings.HasPrefix(key, "MediaUrl"):
		suffix = key[len("MediaUrl"):]
	case strings.HasPrefix(key, "MediaContentType"):
		suffix = key[len("MediaContentType"):]
	default:
		return 0, false
	}
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 0 || strconv.Itoa(i) != suffix {
		return -1, true
	}
	return i, true
}
