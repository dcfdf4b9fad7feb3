package rest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
)

type legacyAttachment struct {
	AttachmentID int64  `json:"attachmentId"`
	Order        *int   `json:"order"`
	Type         string `json:"type"`
	Filename     string `json:"filename"`
	Filesize     int64  `json:"filesize"`
}

type legacyMessage struct {
	MessageID      string             `json:"messageId"`
	ConversationID int64              `json:"conversationId"`
	Direction      string             `json:"direction"`
	Content        *string            `json:"content"`
	Datetime       Time               `json:"datetime"`
	Status         string             `json:"status"`
	Attachments    []legacyAttachment `json:"attachments"`
	Type           string             `json:"type"`
	TemplateID     *int64             `json:"templateId"`
	ErrorCode      *string            `json:"errorCode"`
	// ClientMessageID is the sender's idempotency key (an added field).
	ClientMessageID *string `json:"clientMessageId"`
}

func toLegacyMessage(m *db.Message) legacyMessage {
	out := legacyMessage{
		MessageID: m.HexID(), ConversationID: m.ConversationID, Direction: m.Direction,
		Content: legacyContent(m), Datetime: T(m.Datetime), Status: m.Status, Type: m.MessageType,
		TemplateID: m.TemplateID, ErrorCode: m.ErrorCode, ClientMessageID: m.ClientMessageID,
		Attachments: make([]legacyAttachment, 0, len(m.Attachments)),
	}
	for _, a := range m.Attachments {
		out.Attachments = append(out.Attachments, legacyAttachment{
			AttachmentID: a.ID, Order: a.Order, Type: a.Type, Filename: a.Filename, Filesize: a.Filesize})
	}
	return out
}

// legacyContent is a message's content as legacy clients show it: a location as
// its label, address and coordinates, a button reply as the button's text (when
// the provider sent no text with it).
func legacyContent(m *db.Message) *string {
	if m.Location != nil {
		s := resolvers.LocationText(m.Location)
		return &s
	}
	if m.InteractiveReply != nil && (m.Content == nil || *m.Content == "") {
		return &m.InteractiveReply.Text
	}
	return m.Content
}

// legacyPage is the v1.2 envelope of the message lists (page and limit are numbers
// here; the conversation list has them as strings, see conversationPage).
type legacyPage[T any] struct {
	TotalCount int `json:"totalCount"`
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Data       []T `json:"data"`
}

type messagePage = legacyPage[legacyMessage]

func toMessagePage(msgs []*db.Message, total, page, limit int) messagePage {
	out := messagePage{TotalCount: total, Page: page, Limit: limit, Data: make([]legacyMessage, len(msgs))}
	for i, m := range msgs {
		out.Data[i] = toLegacyMessage(m)
	}
	return out
}

// messagePageList is GET /message/message-page-list/{coversation_id}.
func (a *API) messagePageList(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "coversation_id")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pg, err := a.R.ListMessages(r.Context(), id, resolvers.PageRequest[db.MessageCursor]{Page: page, Limit: limit},
		resolvers.MessageOptions{Total: true, Prefetch: resolvers.MessagePrefetch{Attachments: true}, WithoutNotes: true})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMessagePage(pg.Items, pg.Total, page, limit))
}

// sendMessage is POST /message: it sends, then answers the conversation's first page
// (limit 20), so the new message is data[0]. Once the send has committed, the answer
// is a success whatever happens to the page: see pageAfterSend.
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	in := resolvers.SendInput{
		ClientMessageID: b.String("clientMessageId", false),
		Text:            b.String("text", false),
		AttachmentID:    b.ID("attachmentId", false),
		TemplateID:      b.ID("templateId", false),
		Params:          b.Strings("params"),
	}
	if to := b.ID("to", true); to != nil {
		in.To = *to
	}
	if t := b.String("type", false); t != nil {
		in.Type = *t
	}
	// Legacy inputs: direction is only checked, mediaUrl names an attachment.
	if d := b.String("direction", false); d != nil {
		if d := strings.ToUpper(strings.TrimSpace(*d)); d != "SEND" && d != "SENT" {
			b.v.Addf("direction must be SEND or SENT")
		}
	}
	if u := b.String("mediaUrl", false); u != nil && in.AttachmentID == nil && strings.TrimSpace(*u) != "" {
		if id, ok := attachmentIDFromURL(*u); ok {
			in.AttachmentID = &id
		} else {
			b.v.Addf("mediaUrl must be the URL of an uploaded attachment (/media/{attachmentId})")
		}
	}
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	m, conv, err := a.R.SendMessage(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.pageAfterSend(r, m, conv.ID))
}

// pageAfterSendTimeout bounds each read of the page a committed send answers with.
const pageAfterSendTimeout = 5 * time.Second

// pageAfterSendAttempts is how many times that page is read before giving up on it.
const pageAfterSendAttempts = 2

// pageAfterSend is the answer to a committed send: the conversation's first page.
// The send has committed, so an error here must not become a 503 "try again" (an
// obedient client would send the message twice). The page is read outside the
// request's deadline, with a deadline of its own per attempt; if it still cannot be
// read, the answer is the page shape with the new message alone (data[0] is the
// message, as always; totalCount is then 1, a lower bound), and the failure is
// logged.
func (a *API) pageAfterSend(r *http.Request, m *db.Message, conversationID int64) messagePage {
	var err error
	for range pageAfterSendAttempts {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), pageAfterSendTimeout)
		var pg *resolvers.Page[*db.Message]
		pg, err = a.R.ListMessages(ctx, conversationID, resolvers.PageRequest[db.MessageCursor]{Page: 1, Limit: 20},
			resolvers.MessageOptions{Total: true, Prefetch: resolvers.MessagePrefetch{Attachments: true}, WithoutNotes: true})
		cancel()
		if err == nil {
			return toMessagePage(pg.Items, pg.Total, 1, 20)
		}
	}
	if a.Log != nil {
		a.Log.WarnContext(r.Context(), "the page after a committed send could not be read; answering the message alone",
			"err", err.Error(), "conversation", conversationID)
	}
	return toMessagePage([]*db.Message{m}, 1, 1, 20)
}

// attachmentIDFromURL reads an attachment id from its relative URL (/media/{id}),
// as legacy clients name attachments; a bare id is taken too.
func attachmentIDFromURL(s string) (int64, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(u.Path, "/media/")
	if !ok {
		rest = u.Path
	}
	return parseID(strings.Trim(rest, "/"))
}

type newChatResponse struct {
	ConversationID int64          `json:"conversationId"`
	User           legacyUser     `json:"user"`
	Message        *legacyMessage `json:"message"`
}

// newChat is POST /message/new-chat.
func (a *API) newChat(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	in := resolvers.NewChatInput{
		Phone:      Str(b.String("phone", true)),
		FirstName:  b.String("firstName", false),
		LastName:   b.String("lastName", false),
		TemplateID: b.ID("templateId", false),
		Params:     b.Strings("params"),
	}
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	nc, err := a.R.StartNewChat(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := newChatResponse{ConversationID: nc.Conversation.ID, User: toLegacyUser(nc.Contact)}
	if nc.Message != nil {
		m := toLegacyMessage(nc.Message)
		out.Message = &m
	}
	writeJSON(w, http.StatusCreated, out)
}

type searchItem struct {
	legacyMessage
	User *legacyUser `json:"user"`
}

type searchPage = legacyPage[searchItem]

// messageSearch is GET /message/message-search/{term}.
func (a *API) messageSearch(w http.ResponseWriter, r *http.Request) {
	term, err := pathText(r, "term")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pg, err := a.R.SearchMessages(r.Context(), term, resolvers.PageRequest[db.SearchCursor]{Page: page, Limit: limit},
		resolvers.SearchOptions{Total: true, Prefetch: resolvers.MessagePrefetch{Attachments: true}, Contact: true,
			WithoutNotes: true})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := searchPage{TotalCount: pg.Total, Page: page, Limit: limit, Data: make([]searchItem, len(pg.Items))}
	for i, h := range pg.Items {
		out.Data[i] = searchItem{legacyMessage: toLegacyMessage(&h.Message)}
		if h.Contact.ID != 0 {
			u := toLegacyUser(&h.Contact)
			out.Data[i].User = &u
		}
	}
	writeJSON(w, http.StatusOK, out)
}
