package resolvers

import (
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
