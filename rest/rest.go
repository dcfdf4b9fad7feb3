// Package rest serves the legacy v1.2 REST paths: it decodes requests, calls the
// business functions of resolvers/, and encodes the legacy shapes and NestJS-style
// errors. It holds no business rules and no SQL.
package rest

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/twilio"
)

// API is the legacy REST layer.
type API struct {
	R   *resolvers.Resolver
	Log *slog.Logger
	// Webhooks checks the provider's signature on the webhooks; its zero value (no
	// TWILIO_AUTH_TOKEN) accepts unsigned calls.
	Webhooks twilio.Verifier
	// Metrics counts webhook calls by outcome; nil counts nothing.
	Metrics *metrics.Metrics
}

// Routes mounts the REST paths on r.
func (a *API) Routes(r chi.Router) {
	r.Get("/", a.info)
	r.Get("/openapi.json", a.openAPI)
	r.Post("/auth/signup", a.signup)
	r.Post("/auth/login", a.login)
	r.Post("/auth/refresh", a.refresh)
	r.Post("/message/messagein", a.messageIn)
	r.Post("/message/status", a.messageStatus)
	r.Group(func(r chi.Router) {
		r.Use(RequireAuth)
		r.Post("/auth/logout", a.logout)
		r.Get("/template", a.templates)
		r.Get("/message/message-page-list/{coversation_id}", a.messagePageList)
		r.Post("/message", a.sendMessage)
		r.Post("/message/new-chat", a.newChat)
		r.Get("/message/message-search/{term}", a.messageSearch)
		r.Get("/contact", a.contacts)
		r.Put("/contact", a.updateContact)
		r.Get("/contact/search/{phone}", a.contactSearch)
		r.Get("/conversation/chat-time-report/{conversationId}", a.chatTimeReport)
		r.Get("/conversation/conversation-page-list", a.conversationPageList)
		r.Get("/profile/{profileId}", a.profile)
		r.Put("/profile", a.updateProfile)
		r.Post("/media/save", a.saveMedia)
	})
	// A media link is opened by an agent's token or by its own signature (the
	// provider has no token), so the handler checks access itself.
	r.Get("/media/{attachmentId}", a.getMedia)
	r.Head("/media/{attachmentId}", a.getMedia)
}

// RequireAuth answers 401 in the legacy shape when the request carries no valid token.
func RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.FromContext(r.Context()) == nil {
			WriteError(w, r, nil, apperr.New(apperr.Unauthenticated, "Unauthorized"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, a.Log, err)
}

type infoResponse struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	GraphQL    string `json:"graphql"`
	Playground string `json:"playground"`
	OpenAPI    string `json:"openapi"`
}

// info is GET /.
func (a *API) info(w http.ResponseWriter, r *http.Request) {
	i := resolvers.APIInformation()
	writeJSON(w, http.StatusOK, infoResponse{Name: i.Name, Version: i.Version, GraphQL: i.GraphQL, Playground: i.Playground, OpenAPI: i.OpenAPI})
}
