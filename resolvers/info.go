package resolvers

import (
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
)

// APIInfo describes this server (GET / and the apiInfo query).
type APIInfo struct {
	Name       string
	Version    string
	GraphQL    string
	Playground string
	OpenAPI    string
}

// APIInformation returns what GET / and apiInfo show.
func APIInformation() APIInfo {
	return APIInfo{Name: "CONNECTME API", Version: "1.2", GraphQL: "/graphql", Playground: "/playground", OpenAPI: "/openapi.json"}
}

func authPayload(s *Session) *model.AuthPayload {
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, User: s.User}
}

// channelName names a channel id (the channels table is reference data).
func channelName(id int) string {
	if id == db.ChannelWhatsApp {
		return "WHATSAPP"
	}
	return "UNKNOWN"
}

// sendInput converts the GraphQL input.
func sendInput(in model.SendMessageInput) (SendInput, error) {
	to, err := parseID("to", in.To)
	if err != nil {
		return SendInput{}, err
	}
	att, err := parseOptionalID("attachmentId", in.AttachmentID)
	if err != nil {
		return SendInput{}, err
	}
	tid, err := parseOptionalID("templateId", in.TemplateID)
	if err != nil {
		return SendInput{}, err
	}
	out := SendInput{To: to, Text: in.Text, AttachmentID: att, TemplateID: tid, Params: in.Params}
	if in.Type != nil {
		out.Type = string(*in.Type)
	}
	return out, nil
}
