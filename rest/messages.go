package rest

import (
	"net/http"

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
}

func toLegacyMessage(m *db.Message) legacyMessage {
	out := legacyMessage{
		MessageID: m.HexID(), ConversationID: m.ConversationID, Direction: m.Direction,
		Content: m.Content, Datetime: T(m.Datetime), Status: m.Status, Type: m.MessageType,
		TemplateID: m.TemplateID, ErrorCode: m.ErrorCode,
		Attachments: make([]legacyAttachment, 0, len(m.Attachments)),
	}
	for _, a := range m.Attachments {
		out.Attachments = append(out.Attachments, legacyAttachment{
			AttachmentID: a.ID, Order: a.Order, Type: a.Type, Filename: a.Filename, Filesize: a.Filesize})
	}
	return out
}

type messagePage struct {
	TotalCount int             `json:"totalCount"`
	Page       int             `json:"page"`
	Limit      int             `json:"limit"`
	Data       []legacyMessage `json:"data"`
}

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
	msgs, total, err := a.R.MessagePage(r.Context(), id, page, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMessagePage(msgs, total, page, limit))
}

// sendMessage is POST /message: it sends, then answers the conversation's first page
// (limit 20), so the new message is data[0].
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	in := resolvers.SendInput{
		Text:         b.String("text", false),
		AttachmentID: b.ID("attachmentId", false),
		MediaURL:     b.String("mediaUrl", false),
		TemplateID:   b.ID("templateId", false),
		Params:       b.Strings("params"),
		Direction:    b.String("direction", false),
	}
	if to := b.ID("to", true); to != nil {
		in.To = *to
	}
	if t := b.String("type", false); t != nil {
		in.Type = *t
	}
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	_, conv, err := a.R.SendMessage(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	msgs, total, err := a.R.MessagePage(r.Context(), conv.ID, 1, 20)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMessagePage(msgs, total, 1, 20))
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

type searchPage struct {
	TotalCount int          `json:"totalCount"`
	Page       int          `json:"page"`
	Limit      int          `json:"limit"`
	Data       []searchItem `json:"data"`
}

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
	hits, total, err := a.R.SearchMessagePage(r.Context(), term, page, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := searchPage{TotalCount: total, Page: page, Limit: limit, Data: make([]searchItem, len(hits))}
	for i, h := range hits {
		out.Data[i] = searchItem{legacyMessage: toLegacyMessage(h.Message)}
		if h.Contact != nil {
			u := toLegacyUser(h.Contact)
			out.Data[i].User = &u
		}
	}
	writeJSON(w, http.StatusOK, out)
}
