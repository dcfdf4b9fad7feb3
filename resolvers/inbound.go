package resolvers

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/phone"
	"github.com/connectme/connectme/twilio"
)

// MaxInboundMedia is the most media items one inbound message may carry (Twilio's
// NumMedia never exceeds it).
const MaxInboundMedia = 10

// Bounds on provider-supplied text; the webhook body limit bounds the rest.
const (
	maxSIDLength       = 64
	maxNumberLength    = 64
	maxMediaURLLength  = 2048
	maxFilenameLength  = 100
	maxErrorCodeLength = 32
)

// InboundMessage is a message a contact sent to a company, as the provider reports it
// (Twilio's field names in comments).
type InboundMessage struct {
	MessageSID  string // MessageSid: the provider's id, the idempotency key
	From        string // From: the contact, "whatsapp:+94717936775"
	To          string // To: the company's WhatsApp number, "whatsapp:+14155238886"
	Body        string // Body: the text, may be empty for media
	ProfileName string // ProfileName: the contact's WhatsApp display name
	Media       []InboundMedia
	// RepliedSID is OriginalRepliedMessageSid: the provider id of the message the
	// contact replied to.
	RepliedSID string
	// Latitude, Longitude, Address, Label: a shared location (the two coordinates
	// together, or neither).
	Latitude, Longitude, Address, Label string
	// ButtonText, ButtonPayload: the button of an interactive reply.
	ButtonText, ButtonPayload string
	// Referral is the click-to-WhatsApp ad the contact came from (Referral*).
	Referral InboundReferral
}

// InboundMedia is one media item of an inbound message (MediaUrl{i}, MediaContentType{i}).
type InboundMedia struct {
	URL         string
	ContentType string
}

// ReceiveMessage stores a message a contact sent to the company whose WhatsApp number
// is in.To: contact, conversation, message and attachments in one transaction, with
// the MessageAdded and ConversationUpdated events published in it. A MessageSid that
// is already stored is no error: it returns duplicate true, stores nothing and
// publishes nothing (and the stored message when it is the same company's).
func (r *Resolver) ReceiveMessage(ctx context.Context, in InboundMessage) (*db.Message, bool, error) {
	plan, err := planInbound(in)
	if err != nil {
		return nil, false, err
	}
	company, err := db.CompanyByWhatsAppNumber(ctx, r.DB, plan.to)
	if errors.Is(err, db.ErrNotFound) {
		return nil, false, apperr.New(apperr.NotFound, "no company has the WhatsApp number %s", plan.to)
	}
	if err != nil {
		return nil, false, fmt.Errorf("receive message: %w", err)
	}
	contact := &db.User{CompanyID: company.ID, Phone: &plan.phone, FirstName: plan.profileName}
	msg := &db.Message{
		ID:          db.NewMessageID(),
		CompanyID:   company.ID,
		Direction:   db.DirectionReceived,
		MessageType: db.TypeText,
		Content:     plan.body,
		Datetime:    r.now(),
		Status:      db.StatusPending,
		ProviderSID: &plan.sid,
	}
	if len(plan.attachments) > 0 {
		msg.MessageType = db.TypeMedia
	}
	plan.content.apply(msg)
	for _, a := range plan.attachments {
		a.CompanyID = company.ID
	}
	// Published by the statement that stores the message, which finds or creates
	// the conversation: its id goes into the events there.
	notify, err := notifications(messageEvent(msg), conversationEvent(&db.Conversation{CompanyID: company.ID}))
	if err != nil {
		return nil, false, fmt.Errorf("receive message: %w", err)
	}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return db.ReceiveInbound(ctx, tx, contact, msg, plan.attachments, notify)
	})
	duplicate := errors.Is(err, db.ErrDuplicateInbound)
	if err != nil && !duplicate {
		return nil, false, fmt.Errorf("receive message: %w", err)
	}
	if duplicate {
		stored, err := db.MessageByProviderSID(ctx, r.DB, company.ID, plan.sid)
		if errors.Is(err, db.ErrNotFound) {
			// Another company's message has this id: still a duplicate, not shown.
			return nil, true, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("receive message: %w", err)
		}
		return stored, true, nil
	}
	return msg, false, nil
}

// inboundPlan is a validated InboundMessage, ready to store.
type inboundPlan struct {
	sid, phone, to, profileName string
	body                        *string
	attachments                 []*db.Attachment
	content                     inboundContent
}

// planInbound validates in and derives what to store. It touches nothing, so a bad
// message stores nothing; every failure is listed.
func planInbound(in InboundMessage) (*inboundPlan, error) {
	var v apperr.Validation
	p := &inboundPlan{}
	p.sid = checkSID(&v, "MessageSid", in.MessageSID)
	if strings.TrimSpace(in.From) == "" {
		v.Addf("From should not be empty")
	} else if n, err := phone.Normalize(in.From); err != nil {
		v.Addf("From must be a WhatsApp phone number in international format, e.g. whatsapp:+94717936775")
	} else {
		p.phone = n
	}
	p.to = strings.TrimSpace(in.To)
	if p.to == "" {
		v.Addf("To should not be empty")
	} else if !cleanText(p.to) || len(p.to) > maxNumberLength {
		v.Addf("To must be a WhatsApp number such as whatsapp:+14155238886")
	}
	if !cleanText(in.Body) {
		v.Addf("Body must be UTF-8 text without NUL characters")
	} else if in.Body != "" {
		body := in.Body
		p.body = &body
	}
	if !cleanText(in.ProfileName) {
		v.Addf("ProfileName must be UTF-8 text without NUL characters")
	} else {
		p.profileName = truncateRunes(strings.TrimSpace(in.ProfileName), maxNameLength)
	}
	if len(in.Media) > MaxInboundMedia {
		v.Addf("NumMedia must be at most %d", MaxInboundMedia)
	} else {
		for i, m := range in.Media {
			if a := planAttachment(&v, i, m); a != nil {
				p.attachments = append(p.attachments, a)
			}
		}
	}
	p.content = planContent(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// planAttachment validates media item i and returns its attachment row, PENDING until
// the media download fetches the file from SourceURL.
func planAttachment(v *apperr.Validation, i int, m InboundMedia) *db.Attachment {
	u, err := url.Parse(m.URL)
	if m.URL == "" || err != nil || !cleanText(m.URL) || len(m.URL) > maxMediaURLLength ||
		(u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.Addf("MediaUrl%d must be an http or https URL", i)
		return nil
	}
	contentType := "application/octet-stream"
	if ct := strings.TrimSpace(m.ContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !strings.Contains(mt, "/") {
			v.Addf("MediaContentType%d must be a MIME type such as image/jpeg", i)
			return nil
		}
		contentType = mt
	}
	ord := i
	source := m.URL
	return &db.Attachment{
		Order:       &ord,
		Type:        attachmentTypeOf(contentType),
		Filename:    mediaFilename(u, i),
		ContentType: contentType,
		SourceURL:   &source,
		State:       "PENDING",
	}
}

// attachmentTypeOf decides an attachment's type from its MIME type.
func attachmentTypeOf(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return db.AttachmentImage
	case strings.HasPrefix(contentType, "video/"):
		return db.AttachmentVideo
	case strings.HasPrefix(contentType, "audio/"):
		return db.AttachmentAudio
	}
	return db.AttachmentDocument
}

// mediaFilename derives a display name from the URL's last path segment. It is never
// used as a storage path, but agents download it, so only a safe set of characters
// survives; with nothing left it is "media-<i>".
func mediaFilename(u *url.URL, i int) string {
	base := path.Base(u.Path)
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	if len(name) > maxFilenameLength {
		name = name[len(name)-maxFilenameLength:]
		name = strings.TrimLeft(name, ".")
	}
	if strings.Trim(name, "_") == "" {
		return fmt.Sprintf("media-%d", i)
	}
	return name
}

// checkSID validates a provider message id: letters, digits, '-' and '_', so that it
// is safe in logs and SQL text alike, and short.
func checkSID(v *apperr.Validation, field, sid string) string {
	sid = strings.TrimSpace(sid)
	if sid == "" {
		v.Addf("%s should not be empty", field)
		return ""
	}
	ok := len(sid) <= maxSIDLength
	for _, r := range sid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		v.Addf("%s must be at most %d letters, digits, '-' or '_'", field, maxSIDLength)
		return ""
	}
	return sid
}

// cleanText reports whether s can be stored as PostgreSQL text: valid UTF-8 with no
// NUL (either would make the database refuse it, turning bad input into a 500).
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ReceiveStatus applies a provider's delivery status callback for the message with
// provider id sid, forward only, and publishes MessageStatusChanged in the same
// transaction when the status moved. A callback for an id no message carries yet is
// held back, and applied when the send records the id (RecordSend, RecordSends).
// messageID, when not empty, is our message's id from the StatusCallback URL: a
// callback for a message whose send answer was lost gives it its sid.
func (r *Resolver) ReceiveStatus(ctx context.Context, messageID, sid, providerStatus, errorCode string) error {
	var v apperr.Validation
	sid = checkSID(&v, "MessageSid", sid)
	status, known := twilio.Status(providerStatus)
	switch {
	case strings.TrimSpace(providerStatus) == "":
		v.Addf("MessageStatus should not be empty")
	case !known:
		v.Addf("MessageStatus must be one of %s", twilio.StatusNames)
	}
	var code *string
	if errorCode = strings.TrimSpace(errorCode); errorCode != "" {
		if !cleanText(errorCode) || len(errorCode) > maxErrorCodeLength {
			v.Addf("ErrorCode must be at most %d characters", maxErrorCodeLength)
		}
		code = &errorCode
	}
	var mid uuid.UUID
	if messageID != "" {
		var err error
		if mid, err = uuid.Parse(messageID); err != nil || len(messageID) != 32 {
			v.Addf("mid must be a message id (32 hex characters)")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	now := r.now()
	err := r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.LockProviderSID(ctx, tx, sid); err != nil {
			return err
		}
		change, err := db.AdvanceStatusBySID(ctx, tx, sid, status, code, now)
		if err != nil {
			return err
		}
		if change != nil {
			return publish(ctx, tx, statusEvent(change))
		}
		if err := db.HoldStatus(ctx, tx, sid, status, code, now); err != nil {
			return err
		}
		if mid == uuid.Nil {
			return nil
		}
		// The callback names our message: if no answer of the provider gave it a sid
		// yet (the send's answer was lost), this is its sid. Recording it takes the
		// message out of the outbox, so it is not sent again, and applies the held
		// status just kept.
		companyID, unsent, err := db.UnsentMessage(ctx, tx, mid)
		if err != nil || !unsent {
			return err
		}
		change, err = db.AttachProviderSID(ctx, tx, companyID, mid, sid, db.StatusQueued, nil, now)
		if err != nil || change == nil {
			return err
		}
		if r.Log != nil {
			r.Log.WarnContext(ctx, "a status callback named a message whose send answer was lost; its sid is adopted",
				"message_id", messageID, "sid", sid)
		}
		return publish(ctx, tx, statusEvent(change))
	})
	if err != nil {
		return fmt.Errorf("receive status: %w", err)
	}
	return nil
}
