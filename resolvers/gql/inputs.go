package gql

import (
	"time"

	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/resolvers"
)

// GraphQL inputs and payloads to and from the business layer's plain values.

func authPayload(s *resolvers.Session) *model.AuthPayload {
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, User: s.User, RefreshToken: s.RefreshToken}
}

// sendInput converts sendMessage's input.
func sendInput(in model.SendMessageInput) (resolvers.SendInput, error) {
	to, err := resolvers.ParseOptionalID("to", in.To)
	if err != nil {
		return resolvers.SendInput{}, err
	}
	conv, err := resolvers.ParseOptionalID("conversationId", in.ConversationID)
	if err != nil {
		return resolvers.SendInput{}, err
	}
	att, err := resolvers.ParseOptionalID("attachmentId", in.AttachmentID)
	if err != nil {
		return resolvers.SendInput{}, err
	}
	tid, err := resolvers.ParseOptionalID("templateId", in.TemplateID)
	if err != nil {
		return resolvers.SendInput{}, err
	}
	out := resolvers.SendInput{ConversationID: conv, ClientMessageID: in.ClientMessageID, Text: in.Text, AttachmentID: att, TemplateID: tid, Params: in.Params}
	if to != nil {
		out.To = *to
	}
	if in.Type != nil {
		out.Type = *in.Type
	}
	return out, nil
}

func chatWindowModel(w resolvers.Window) *model.ChatWindow {
	return &model.ChatWindow{
		IsOpen:              w.IsOpen(),
		LastFreeMessageTime: w.LastFreeMessageTime,
		ExpiresAt:           w.ExpiresAt,
		RemainingSeconds:    int(w.Remaining / time.Second),
	}
}
