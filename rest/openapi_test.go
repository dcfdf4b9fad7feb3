package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/connectme/connectme/rest"
	"github.com/connectme/connectme/testkit"
)

// The REST tests check every answer against rest/openapi.json (kin-openapi validates
// OpenAPI 3.1 documents with a JSON Schema 2020-12 validator), so the document and
// the handlers cannot drift apart: an undocumented status, a missing or mistyped
// field, or a field the document does not declare fails the test that caused it.

type openAPISpec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*openAPISpec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rest.OpenAPIDocument())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &openAPISpec{doc: doc, router: router}, nil
})

func spec(t testing.TB) *openAPISpec {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("rest/openapi.json: %v", err)
	}
	return s
}

// call sends a request to the whole server, like app.Do, and checks the answer
// against the OpenAPI document: its status must be documented for the operation,
// its body must match the documented schema and declare no undocumented field. A
// request the server accepts (2xx) must also be one the document accepts.
func call(t testing.TB, app *testkit.App, method, path, token string, body any, headers ...string) *testkit.Response {
	t.Helper()
	resp := app.Do(method, path, token, body, headers...)
	checkDocumented(t, method, path, token, body, headers, resp)
	return resp
}

func requestBody(t testing.TB, body any) []byte {
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
}

func checkDocumented(t testing.TB, method, path, token string, body any, headers []string, resp *testkit.Response) {
	t.Helper()
	raw := requestBody(t, body)
	req := httptest.NewRequest(method, path, nil)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	checkExchange(t, req, raw, true, resp)
}

// checkExchange checks resp, the server's answer to req, against the document. body
// is the request's body; when bodyKnown is false (a streamed upload) only the answer
// is checked.
func checkExchange(t testing.TB, req *http.Request, body []byte, bodyKnown bool, resp *testkit.Response) {
	t.Helper()
	s := spec(t)
	method, path := req.Method, req.URL.RequestURI()
	route, params, err := s.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		checkSchema(t, "NotFoundError", resp, http.StatusNotFound, method, path)
		return
	case errors.Is(err, routers.ErrMethodNotAllowed):
		checkSchema(t, "MethodNotAllowedError", resp, http.StatusMethodNotAllowed, method, path)
		return
	case err != nil:
		t.Fatalf("%s %s: find the route in the document: %v", method, path, err)
	}
	// The router matches the escaped path and hands its variables over escaped.
	for k, v := range params {
		if u, err := url.PathUnescape(v); err == nil {
			params[k] = u
		}
	}
	// kin-openapi never validates some answers (HEAD, 304, 307): their status must
	// still be documented, and any body must have a documented media type.
	ref := route.Operation.Responses.Status(resp.Status)
	if ref == nil || ref.Value == nil {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not list: %.300s", method, path, resp.Status, resp.Body)
		return
	}
	ct := resp.Header.Get("Content-Type")
	if method != http.MethodHead && len(resp.Body) > 0 && resp.Status != http.StatusTemporaryRedirect && ref.Value.Content.Get(ct) == nil {
		t.Errorf("%s %s answered %d as %q, a media type the document does not give for it", method, path, resp.Status, ct)
	}

	reqInput := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	respInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), respInput); err != nil {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not allow:\n%v\nbody: %.500s", method, path, resp.Status, err, resp.Body)
		return
	}
	if bodyKnown && resp.Status >= 200 && resp.Status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err := openapi3filter.ValidateRequest(context.Background(), reqInput); err != nil {
			t.Errorf("%s %s: the server accepted a request the OpenAPI document refuses:\n%v", method, path, err)
		}
	}
	if mt := ref.Value.Content.Get(ct); mt != nil && mt.Schema != nil && strings.HasPrefix(ct, "application/json") {
		var v any
		if err := json.Unmarshal(resp.Body, &v); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, resp.Body)
		}
		if extra := undeclared(flatten(mt.Schema, nil), v, "$"); len(extra) > 0 {
			sort.Strings(extra)
			t.Errorf("%s %s answered fields the OpenAPI document does not declare: %v", method, path, extra)
		}
	}
}

// checkSchema validates an answer that no operation describes (404, 405) against a
// named component schema.
func checkSchema(t testing.TB, name string, resp *testkit.Response, status int, method, path string) {
	t.Helper()
	if resp.Status != status {
		t.Errorf("%s %s: the document has no such operation, so the answer must be %d, got %d: %s", method, path, status, resp.Status, resp.Body)
		return
	}
	s := spec(t)
	ref := s.doc.Components.Schemas[name]
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %s", method, path, resp.Body)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		t.Errorf("%s %s: body does not match %s: %v\nbody: %s", method, path, name, err, resp.Body)
	}
	if extra := undeclared(flatten(ref, nil), v, "$"); len(extra) > 0 {
		t.Errorf("%s %s answered fields %s does not declare: %v", method, path, name, extra)
	}
}

// flatten returns the schema and every schema it combines with allOf, oneOf, anyOf.
func flatten(ref *openapi3.SchemaRef, out []*openapi3.Schema) []*openapi3.Schema {
	if ref == nil || ref.Value == nil {
		return out
	}
	s := ref.Value
	out = append(out, s)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range group {
			out = flatten(r, out)
		}
	}
	return out
}

// undeclared lists the object keys in v that none of the candidate schemas declares.
// A schema that says "object" and lists no properties (or allows additional ones) is
// free-form. The document leaves response objects open, as the contract lets the
// server add fields; this check keeps every added field documented.
func undeclared(cands []*openapi3.Schema, v any, at string) []string {
	var bad []string
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			var sub []*openapi3.Schema
			open := false
			for _, s := range cands {
				if p, ok := s.Properties[k]; ok {
					sub = flatten(p, sub)
				}
				ap := s.AdditionalProperties
				if (ap.Has != nil && *ap.Has) || ap.Schema != nil ||
					(len(s.Properties) == 0 && s.Type != nil && s.Type.Includes("object")) {
					open = true
				}
			}
			if len(sub) == 0 {
				if !open {
					bad = append(bad, at+"."+k)
				}
				continue
			}
			bad = append(bad, undeclared(sub, val, at+"."+k)...)
		}
	case []any:
		var items []*openapi3.Schema
		for _, s := range cands {
			items = flatten(s.Items, items)
		}
		for i, e := range v {
			bad = append(bad, undeclared(items, e, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return bad
}

func TestOpenAPI_DocumentIsValidAndServed(t *testing.T) {
	s := spec(t)
	if s.doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", s.doc.OpenAPI)
	}
	app := testkit.NewApp(t)
	r := call(t, app, "GET", "/openapi.json", "", nil)
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, rest.OpenAPIDocument()) {
		t.Fatalf("GET /openapi.json: %d, %d bytes; want the embedded document", r.Status, len(r.Body))
	}
	info := call(t, app, "GET", "/", "", nil)
	if link := info.Map(t)["openapi"]; link != "/openapi.json" {
		t.Errorf("GET / links the document as %v", link)
	}
	if _, ok := s.doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("no bearerAuth security scheme")
	}
}

// The schema checks must really catch drift: a wrong type, a missing required field
// and an undeclared field are each refused.
func TestOpenAPI_ValidatorCatchesDrift(t *testing.T) {
	s := spec(t)
	msg := s.doc.Components.Schemas["Message"]
	good := map[string]any{
		"messageId": "0190f8a1b2c34d5e8f90a1b2c3d4e5f6", "conversationId": 1, "direction": "SENT",
		"content": nil, "datetime": "2021-01-08T08:55:30.422Z", "status": "PENDING", "attachments": []any{},
		"type": "TEXT", "templateId": nil, "errorCode": nil,
	}
	if err := msg.Value.VisitJSON(good, openapi3.EnableJSONSchema2020()); err != nil {
		t.Fatalf("a good message is refused: %v", err)
	}
	for name, change := range map[string]func(m map[string]any){
		"string id":           func(m map[string]any) { m["conversationId"] = "1" },
		"dashed messageId":    func(m map[string]any) { m["messageId"] = "0190f8a1-b2c3-4d5e-8f90-a1b2c3d4e5f6" },
		"RFC 3339 without ms": func(m map[string]any) { m["datetime"] = "2021-01-08T08:55:30Z" },
		"offset timestamp":    func(m map[string]any) { m["datetime"] = "2021-01-08T08:55:30.422+00:00" },
		"missing status":      func(m map[string]any) { delete(m, "status") },
		"null attachments":    func(m map[string]any) { m["attachments"] = nil },
	} {
		bad := map[string]any{}
		for k, v := range good {
			bad[k] = v
		}
		change(bad)
		if err := msg.Value.VisitJSON(bad, openapi3.EnableJSONSchema2020()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	nts := s.doc.Components.Schemas["NullableTimestamp"].Value
	if err := nts.VisitJSON(nil, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("null timestamp refused: %v", err)
	}
	if err := nts.VisitJSON("2021-01-08T08:55:30Z", openapi3.EnableJSONSchema2020()); err == nil {
		t.Error("nullable timestamp without milliseconds accepted")
	}
	withExtra := map[string]any{"surprise": 1}
	for k, v := range good {
		withExtra[k] = v
	}
	if extra := undeclared(flatten(msg, nil), withExtra, "$"); !slices.Equal(extra, []string{"$.surprise"}) {
		t.Errorf("undeclared = %v, want [$.surprise]", extra)
	}
}

// Paths of the server that are not part of the REST layer.
var notREST = []string{"/graphql", "/playground", "/healthz", "/readyz", "/metrics"}

var chiParam = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

func TestOpenAPI_DocumentsEveryRouteAndNothingElse(t *testing.T) {
	app := testkit.NewApp(t)
	routes, ok := app.Server.Config.Handler.(chi.Routes)
	if !ok {
		t.Fatalf("the server's handler is %T, not a chi router", app.Server.Config.Handler)
	}
	routed := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = chiParam.ReplaceAllString(route, "{$1}")
		if route != "/" {
			route = strings.TrimSuffix(strings.TrimSuffix(route, "/*"), "/")
		}
		if slices.Contains(notREST, route) {
			return nil
		}
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range spec(t).doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("%s is routed but not in rest/openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("%s is in rest/openapi.json but not routed", d)
		}
	}
	if len(documented) != 18+3+2 {
		t.Errorf("the document has %d operations, want the 18 v1.2 paths, GET and HEAD /media/{attachmentId}, GET /openapi.json, POST /auth/refresh and /auth/logout", len(documented))
	}
}
