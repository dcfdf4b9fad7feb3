package resolvers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
)

// The JSON a webhook carries, in the GraphQL API's field names (CONTRACT §7).
type webhookPayload struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      webhookData `json:"data"`
}

// webhookData holds the message of message events and the conversation of all;
// a ping carries neither. Gone ones are null.
type webhookData struct {
	Message      *webhookMessage      `json:"message,omitempty"`
	Conversation *webhookConversation `json:"conversation,omitempty"`
}

type webhookMessage struct {
	ID             string              `json:"id"`
	ConversationID string              `json:"conversationId"`
	Direction      string              `json:"direction"`
	Type           string              `json:"type"`
	Content        *string             `json:"content"`
	Status         string              `json:"status"`
	Datetime       time.Time           `json:"datetime"`
	Attachments    []webhookAttachment `json:"attachments"`
}

type webhookAttachment struct {
	ID          string `json:"id"`
	Order       *int   `json:"order"`
	Type        string `json:"type"`
	Filename    string `json:"filename"`
	Filesize    int64  `json:"filesize"`
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
}

// webhookConversation is a conversation as a webhook shows it. It grows with the
// Conversation type: a new field is one line here and one in webhookConversation.
type webhookConversation struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// AssigneeID is the assigned agent's id (GraphQL's assignee { id }), or null.
	AssigneeID  *string        `json:"assigneeId"`
	Labels      []webhookLabel `json:"labels"`
	UnreadCount int            `json:"unreadCount"`
	Contact     webhookContact `json:"contact"`
}

type webhookLabel struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

type webhookContact struct {
	ID          string  `json:"id"`
	Phone       *string `json:"phone"`
	DisplayName string  `json:"displayName"`
}

// webhookMessage reads a message as it is now; nil when it is gone.
func (r *Resolver) webhookMessage(ctx context.Context, companyID int64, id uuid.UUID) (*webhookMessage, error) {
	ms, err := db.MessagesByIDs(ctx, r.DB, companyID, []uuid.UUID{id})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	m := ms[0]
	atts, err := db.AttachmentsByMessageIDs(ctx, r.DB, companyID, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	out := &webhookMessage{ID: m.HexID(), ConversationID: strconv.FormatInt(m.ConversationID, 10), Direction: m.Direction,
		Type: m.MessageType, Content: m.Content, Status: m.Status, Datetime: m.Datetime, Attachments: []webhookAttachment{}}
	for _, a := range atts {
		url := ""
		if r.Media != nil {
			url = r.AttachmentURL(a)
		}
		out.Attachments = append(out.Attachments, webhookAttachment{ID: strconv.FormatInt(a.ID, 10), Order: a.Order, Type: a.Type,
			Filename: a.Filename, Filesize: a.Filesize, ContentType: a.ContentType, URL: url})
	}
	return out, nil
}

// webhookConversation reads a conversation as it is now, with its status,
// assignee, labels, contact and unread count; nil when it is gone.
func (r *Resolver) webhookConversation(ctx context.Context, companyID, id int64) (*webhookConversation, error) {
	c, err := db.ConversationByID(ctx, r.DB, companyID, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	contact, err := db.UserByID(ctx, r.DB, companyID, c.UserID)
	if errors.Is(err, db.ErrNotFound) {
		contact = nil
	} else if err != nil {
		return nil, err
	}
	unread, err := db.UnreadCounts(ctx, r.DB, companyID, []int64{id})
	if err != nil {
		return nil, err
	}
	labels, err := db.LabelsOfConversations(ctx, r.DB, companyID, []int64{id})
	if err != nil {
		return nil, err
	}
	out := &webhookConversation{ID: strconv.FormatInt(c.ID, 10), Status: c.Status, UnreadCount: unread[id],
		Labels: []webhookLabel{}}
	if c.AssigneeID != nil {
		a := strconv.FormatInt(*c.AssigneeID, 10)
		out.AssigneeID = &a
	}
	for _, l := range labels[id] {
		out.Labels = append(out.Labels, webhookLabel{ID: strconv.FormatInt(l.ID, 10), Name: l.Name, Color: l.Color})
	}
	if contact != nil {
		out.Contact = webhookContact{ID: strconv.FormatInt(contact.ID, 10), Phone: contact.Phone, DisplayName: contact.DisplayName()}
	}
	return out, nil
}
