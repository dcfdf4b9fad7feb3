package resolvers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/phone"
)

// MaxTextLength is WhatsApp's limit on a message body.
const MaxTextLength = 4096

// maxTemplateLength is the provider's limit on a rendered template (Twilio 63021).
const maxTemplateLength = 1024

// maxParamLength bounds one template parameter.
const maxParamLength = 1024

var placeholder = regexp.MustCompile(`\{\{\s*(\d{1,2})\s*\}\}`)

// ParameterCount returns how many parameters a template takes: its highest {{n}}.
func ParameterCount(content string) int {
	max := 0
	for _, m := range placeholder.FindAllStringSubmatch(content, -1) {
		if n, _ := strconv.Atoi(m[1]); n > max {
			max = n
		}
	}
	return max
}

// RenderTemplate replaces every {{n}} with the n-th parameter. A wrong number of
// parameters is a validation error.
func RenderTemplate(content string, params []string) (string, error) {
	want := ParameterCount(content)
	if len(params) != want {
		return "", apperr.Invalidf("params must have exactly %d items for this template, not %d", want, len(params))
	}
	for i, p := range params {
		if utf8.RuneCountInString(p) > maxParamLength {
			return "", apperr.Invalidf("params.%d must be shorter than or equal to %d characters", i, maxParamLength)
		}
	}
	return placeholder.ReplaceAllStringFunc(content, func(m string) string {
		n, _ := strconv.Atoi(placeholder.FindStringSubmatch(m)[1])
		if n < 1 {
			return m
		}
		return params[n-1]
	}), nil
}

// SendInput is a message an agent sends (REST POST /message, GraphQL sendMessage).
type SendInput struct {
	// To is the contact's user id (0: not given); ConversationID names the
	// conversation instead. Exactly one of them.
	To             int64
	ConversationID *int64
	// ClientMessageID is the client's idempotency key, unique per conversation.
	ClientMessageID *string
	Text            *string
	Type            string
	AttachmentID    *int64
	TemplateID      *int64
	Params          []string
}

// SendMessage stores an outbound message and its delivery job in one transaction:
// after the answer a crash cannot lose it, and the outbox sends it once. Free text
// needs an open 24-hour window; outside it a template must be approved
// (TemplateApproved). A message whose ClientMessageID its conversation already has
// is a retry: the first message comes back unchanged and nothing is stored or sent,
// whatever the retry's content.
func (r *Resolver) SendMessage(ctx context.Context, in SendInput) (*db.Message, *db.Conversation, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSendTarget(in); err != nil {
		return nil, nil, err
	}
	contactID, convID, err := r.sendTarget(ctx, p.CompanyID, in)
	if err != nil {
		return nil, nil, err
	}
	plan, err := r.planSend(ctx, p.CompanyID, in)
	if err != nil {
		// A retry whose content is no longer valid (a template removed since, say)
		// is still a retry.
		return r.retriedSend(ctx, p.CompanyID, contactID, convID, in.ClientMessageID, err)
	}
	var msg *db.Message
	var conv *db.Conversation
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Found or created and touched at once; a closed window rolls it all back.
		now := r.now()
		conv, err = db.UpsertConversationAt(ctx, tx, p.CompanyID, contactID, db.ChannelWhatsApp, now, false)
		if err != nil {
			return err
		}
		if err := plan.allowedIn(windowOf(conv.LastFreeMessageTime, now)); err != nil {
			return err
		}
		plan.clientMessageID = in.ClientMessageID
		msg, err = r.storeOutbound(ctx, tx, p.UserID, conv, plan, now)
		return err
	})
	if err != nil {
		// A duplicate ClientMessageID (the insert found it) rolled the touch of
		// the conversation back; so did a closed window, which a retry of a
		// message sent while it was open meets.
		return r.retriedSend(ctx, p.CompanyID, contactID, convID, in.ClientMessageID, err)
	}
	r.Metrics.Delivery(metrics.DeliveryQueued)
	return msg, conv, nil
}

// sendPlan is a validated outbound message, before it is stored.
type sendPlan struct {
	// clientMessageID is the send's idempotency key, if any.
	clientMessageID *string
	kind            string
	content         *string
	template        *db.Template
	params          []string
	attachments     []int64
}

// planSend validates a message's content (in.To is the caller's business).
func (r *Resolver) planSend(ctx context.Context, companyID int64, in SendInput) (*sendPlan, error) {
	var v apperr.Validation
	plan := &sendPlan{}
	if in.Text != nil {
		if err := checkText("text", *in.Text, 4*MaxTextLength); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
	}
	for i, p := range in.Params {
		if err := checkText(fmt.Sprintf("params.%d", i), p, 4*maxParamLength); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
	}
	if in.Text != nil && *in.Text != "" {
		if n := utf8.RuneCountInString(*in.Text); n > MaxTextLength {
			v.Addf("text must be shorter than or equal to %d characters", MaxTextLength)
		}
		t := *in.Text
		plan.content = &t
	}
	attID := in.AttachmentID
	kind := strings.ToUpper(strings.TrimSpace(in.Type))
	switch kind {
	case "", db.TypeText, db.TypeMedia, db.TypeTemplate:
	case db.TypeNote:
		v.Addf("type NOTE cannot be sent: write notes with addNote")
	default:
		v.Addf("type must be one of TEXT, MEDIA, TEMPLATE")
	}
	if in.TemplateID == nil && len(in.Params) > 0 {
		v.Addf("params need a templateId")
	}
	// A template goes out as the approved template alone (by content id outside the
	// window): text or media beside it would be dropped or refused by WhatsApp.
	if in.TemplateID != nil && (plan.content != nil && strings.TrimSpace(*plan.content) != "" || attID != nil) {
		v.Addf("templateId cannot be combined with text or an attachment: send them as a separate message")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Whitespace alone is no message (the provider refuses an empty body); with an
	// attachment it stays, as legacy clients send "\n" beside media.
	blank := plan.content == nil || strings.TrimSpace(*plan.content) == ""
	if blank && attID == nil && in.TemplateID == nil {
		return nil, apperr.Invalidf("a message needs text, an attachment or a template")
	}
	switch {
	case in.TemplateID != nil:
		plan.kind = db.TypeTemplate
	case attID != nil:
		plan.kind = db.TypeMedia
	default:
		plan.kind = db.TypeText
	}
	if kind != "" && kind != plan.kind {
		return nil, apperr.Invalidf("type %s does not match the message content (%s)", kind, plan.kind)
	}
	if in.TemplateID != nil {
		t, err := db.TemplateByID(ctx, r.DB, companyID, *in.TemplateID)
		if errors.Is(err, db.ErrNotFound) || errors.Is(err, db.ErrForeign) {
			return nil, apperr.New(apperr.Forbidden, "you don't have access to this template")
		}
		if err != nil {
			return nil, err
		}
		text, err := RenderTemplate(t.Content, in.Params)
		if err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(text) > maxTemplateLength {
			return nil, apperr.Invalidf("the rendered template must be shorter than or equal to %d characters", maxTemplateLength)
		}
		plan.template, plan.params, plan.content = t, in.Params, &text
		if plan.params == nil {
			plan.params = []string{}
		}
	}
	if attID != nil {
		if _, err := r.AttachmentForSend(ctx, *attID); err != nil {
			return nil, err
		}
		plan.attachments = []int64{*attID}
	}
	return plan, nil
}

// storeOutbound inserts the message sent at now, links its attachments, enqueues its
// delivery and publishes the events, all in tx. The caller has touched the
// conversation at now (db.UpsertConversationAt).
func (r *Resolver) storeOutbound(ctx context.Context, tx bun.Tx, agentID int64, conv *db.Conversation, plan *sendPlan, now time.Time) (*db.Message, error) {
	msg := &db.Message{
		ID: db.NewMessageID(), CompanyID: conv.CompanyID, ConversationID: conv.ID, SenderID: &agentID,
		Direction: db.DirectionSent, MessageType: plan.kind, Content: plan.content,
		Datetime: now, Status: db.StatusPending, TemplateParams: plan.params, ClientMessageID: plan.clientMessageID,
	}
	if plan.template != nil {
		msg.TemplateID = &plan.template.ID
	}
	// The message, its delivery job and its events in one statement.
	notify, err := notifications(messageEvent(msg), conversationEvent(conv))
	if err != nil {
		return nil, err
	}
	if err := db.QueueMessage(ctx, tx, msg, plan.attachments, notify); err != nil {
		return nil, err
	}
	if conv.LastUpdateTime == nil || conv.LastUpdateTime.Before(now) {
		conv.LastUpdateTime = &now
	}
	return msg, nil
}

// NewChatInput starts a conversation with a phone number (REST POST
// /message/new-chat, GraphQL startNewChat).
type NewChatInput struct {
	Phone               string
	FirstName, LastName *string
	TemplateID          *int64
	Params              []string
}

// NewChat is what StartNewChat found or made.
type NewChat struct {
	Conversation *db.Conversation
	Contact      *db.User
	// Message is the opening template message, when one was asked for.
	Message *db.Message
}

// StartNewChat finds or creates the contact and the WhatsApp conversation for a
// phone number, and sends the opening template when one is given. Calling it again
// for the same phone returns the same conversation.
func (r *Resolver) StartNewChat(ctx context.Context, in NewChatInput) (*NewChat, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Validation
	num, perr := phone.Normalize(in.Phone)
	if perr != nil {
		v.Addf("phone %s", perr)
	}
	for name, s := range map[string]*string{"firstName": in.FirstName, "lastName": in.LastName} {
		if s != nil && utf8.RuneCountInString(*s) > maxNameLength {
			v.Addf("%s must be shorter than or equal to %d characters", name, maxNameLength)
		} else if s != nil {
			if err := checkText(name, *s, 4*maxNameLength); err != nil {
				v.Addf("%s", err.(*apperr.Error).Message)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var plan *sendPlan
	if in.TemplateID != nil {
		if plan, err = r.planSend(ctx, p.CompanyID, SendInput{TemplateID: in.TemplateID, Params: in.Params}); err != nil {
			return nil, err
		}
	} else if len(in.Params) > 0 {
		return nil, apperr.Invalidf("params need a templateId")
	}
	out := &NewChat{}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		contact := &db.User{CompanyID: p.CompanyID, FirstName: trimmed(in.FirstName), LastName: trimmed(in.LastName), Phone: &num}
		if err := db.UpsertContact(ctx, tx, contact); err != nil {
			return err
		}
		var conv *db.Conversation
		now := r.now()
		if plan != nil {
			conv, err = db.UpsertConversationAt(ctx, tx, p.CompanyID, contact.ID, db.ChannelWhatsApp, now, false)
		} else {
			conv, err = db.UpsertConversation(ctx, tx, p.CompanyID, contact.ID, db.ChannelWhatsApp)
		}
		if err != nil {
			return err
		}
		out.Contact, out.Conversation = contact, conv
		if plan != nil {
			if err := plan.allowedIn(windowOf(conv.LastFreeMessageTime, now)); err != nil {
				return err
			}
			out.Message, err = r.storeOutbound(ctx, tx, p.UserID, conv, plan, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.Message != nil {
		r.Metrics.Delivery(metrics.DeliveryQueued)
	}
	return out, nil
}
