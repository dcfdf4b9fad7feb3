package rest

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of this REST layer. Every REST test
// validates its answers against it, so it cannot drift from the handlers.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 document served at GET /openapi.json.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI is GET /openapi.json.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}
