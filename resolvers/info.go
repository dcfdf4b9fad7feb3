package resolvers

import (
	"github.com/connectme/connectme/db"
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

// ChannelName names a channel id (the channels table is reference data).
func ChannelName(id int) string {
	if id == db.ChannelWhatsApp {
		return "WHATSAPP"
	}
	return "UNKNOWN"
}
