package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/connectme/connectme/internal/workgate"
)

// Media types of GraphQL responses (GraphQL over HTTP).
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// graphQLHTTP is the GET and POST (application/json) transport of /graphql. It
// replaces gqlgen's transport.GET and transport.POST to follow the GraphQL-over-HTTP
// spec where they do not:
//   - a mutation over GET is refused with 405 and Allow: POST (gqlgen answers 406);
//   - a request error (the document does not parse or validate, variables do not
//     coerce, a limit is exceeded) answers 200 under application/json and 400 under
//     application/graphql-response+json (gqlgen answers 422 and 400), and its body
//     has no "data" entry, since nothing was executed;
//   - a body that is not JSON or parameters of the wrong type answer 400 without
//     echoing the body; a body over the size limit answers 413;
//   - subscriptions are refused: they are served over websockets, and a plain HTTP
//     request for one would otherwise wait for the first event.
//
// The response's media type follows the Accept header: application/graphql-response+json
// when the client prefers it, else application/json (also when Accept is missing, is
// a wildcard or names neither).
type graphQLHTTP struct{}

var _ graphql.Transport = graphQLHTTP{}

// Supports claims GET requests and POSTs of application/json, but not websocket
// upgrades (the websocket transport's) nor multipart uploads.
func (graphQLHTTP) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == mediaJSON
	}
	return false
}

// rawRequest is the body of a POST, typed so that parameters of the wrong type are
// refused while decoding.
type rawRequest struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

// Do reads one GraphQL request, runs it and writes the answer.
func (graphQLHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media := responseMediaType(r.Header.Get("Accept"))
	h := w.Header()
	h.Set("Content-Type", media+"; charset=utf-8")
	h.Add("Vary", "Accept")

	start := graphql.Now()
	params, status, err := readParams(r)
	if err != nil {
		writeRequestError(w, status, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, media)
}

// execute runs one GraphQL request read by an HTTP transport and writes its answer
// under the media type the client asked for.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, media string) {
	h := w.Header()
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && opCtx.Operation != nil {
		switch op := opCtx.Operation.Operation; {
		case r.Method == http.MethodGet && op != ast.Query:
			h.Set("Allow", http.MethodPost)
			writeRequestError(w, http.StatusMethodNotAllowed, fmt.Sprintf("a %s cannot be sent with GET; use POST", op))
			return
		case op == ast.Subscription:
			errs = gqlerror.List{gqlerror.Errorf("subscriptions are served over a websocket at this path (graphql-transport-ws or graphql-ws)")}
			errs[0].Extensions = map[string]any{"code": "BAD_USER_INPUT"}
		}
	}
	if len(errs) > 0 {
		// A request error: nothing was executed, so the answer has no data entry.
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
		return
	}

	leave := func() {}
	if opCtx.Operation.Operation == ast.Query {
		// A read: it works in its turn (WORKING_REQUESTS, gateWork), and gives
		// its place back once the answer is made, before a slow client reads it.
		l, err := workgate.Enter(ctx)
		if err != nil {
			writeUnavailable(w, r, busy)
			return
		}
		leave = sync.OnceFunc(l)
		defer leave() // if the execution panics
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	leave()
	if resp == nil {
		// Only when the client has gone away.
		return
	}
	writeResponse(w, resp)
}

// writeResponse writes an executed operation's answer. The common answer, data
// alone, is written as it is: gqlgen's marshalling already made it compact JSON, and
// encoding/json would scan all of it again (json.RawMessage is validated and
// compacted on the way out: 5 % of a messages page's CPU in BENCHMARKS.md).
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil ||
		len(resp.Data) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	// Written in three parts, not copied into one: with the length known the
	// server neither buffers nor chunks it.
	w.Header().Set("Content-Length", strconv.Itoa(len(`{"data":}`)+len(resp.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"data":`)
	_, _ = w.Write(resp.Data)
	_, _ = io.WriteString(w, "}")
}

// readParams reads the GraphQL request from the URL (GET) or the JSON body (POST).
// Its errors are the client's: the status says which.
func readParams(r *http.Request) (*graphql.RawParams, int, error) {
	var req rawRequest
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("the query string is malformed")
		}
		if q.Has("query") {
			s := q.Get("query")
			req.Query = &s
		}
		if q.Has("operationName") {
			s := q.Get("operationName")
			req.OperationName = &s
		}
		for name, dst := range map[string]*map[string]any{"variables": &req.Variables, "extensions": &req.Extensions} {
			if s := q.Get(name); s != "" {
				if err := decodeJSON(strings.NewReader(s), dst); err != nil {
					return nil, http.StatusBadRequest, fmt.Errorf("%s must be a JSON object", name)
				}
			}
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, http.StatusRequestEntityTooLarge, errors.New("the request body is too large")
			}
			return nil, http.StatusBadRequest, errors.New("the request body could not be read")
		}
		if err := decodeJSON(bytes.NewReader(body), &req); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return nil, http.StatusBadRequest, fmt.Errorf("%s has the wrong type", typeErr.Field)
			}
			return nil, http.StatusBadRequest, errors.New("the request body must be a JSON object: {query, operationName?, variables?, extensions?}")
		}
	}
	if req.Query == nil || *req.Query == "" {
		// Automatic persisted queries send only the hash; the extension finds the query.
		if _, apq := req.Extensions["persistedQuery"]; !apq {
			return nil, http.StatusBadRequest, errors.New("query is required")
		}
	}
	p := &graphql.RawParams{Variables: req.Variables, Extensions: req.Extensions}
	if req.Query != nil {
		p.Query = *req.Query
	}
	if req.OperationName != nil {
		p.OperationName = *req.OperationName
	}
	return p, 0, nil
}

// decodeJSON decodes one JSON value, keeping numbers exact (variables may hold
// integers beyond float64's precision) and refusing trailing data.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// responseMediaType picks the response's media type from an Accept header, honouring
// q-values: application/graphql-response+json only when the client ranks it at least
// as high as application/json; application/json otherwise.
func responseMediaType(accept string) string {
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		if q <= 0 {
			continue
		}
		var m string
		switch mt {
		case mediaGraphQLResponse:
			m = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			m = mediaJSON
		default:
			continue
		}
		// Ties go to the first listed, as the client wrote them.
		if q > bestQ {
			best, bestQ = m, q
		}
	}
	return best
}

// writeRequestError answers a request that could not be turned into a GraphQL
// operation.
func writeRequestError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Errors []map[string]any `json:"errors"`
	}{[]map[string]any{{"message": msg, "extensions": map[string]any{"code": "BAD_USER_INPUT"}}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Resolved data always marshals; this is a bug, and gqlgen's recover
		// turns the panic into a 500.
		panic(fmt.Errorf("graphql: marshal the response: %w", err))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
