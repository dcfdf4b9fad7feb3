package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/ratelimit"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/server"
	"github.com/connectme/connectme/testkit"
)

// syncBuffer is a log destination the server writes to while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// productionServer serves the real router with the configuration APP_ENV=production
// loads (env adds to or overrides the required settings); its log is returned.
func productionServer(t *testing.T, env map[string]string) (*httptest.Server, *syncBuffer) {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":            "production",
		"JWT_SECRET":         string(testkit.Secret),
		"PUBLIC_BASE_URL":    "https://inbox.example.com",
		"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
		"TWILIO_AUTH_TOKEN":  "token",
		"MEDIA_DIR":          t.TempDir(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := logging.New(logs, slog.LevelInfo)
	bdb := testkit.DB(t)
	res := &resolvers.Resolver{DB: bdb, Tokens: auth.NewTokens(cfg.JWTSecret, cfg.JWTTTL, nil), Log: log,
		AuthLimiter: ratelimit.New(cfg.AuthRateLimit, time.Minute, nil)}
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(server.New(server.Deps{Config: cfg, DB: bdb, Resolver: res, Log: log, Done: ctx}))
	t.Cleanup(func() { cancel(); srv.Close() })
	return srv, logs
}

// postGraphQL posts a query and returns the status and decoded answer.
func postGraphQL(t *testing.T, url, query string) (int, testkit.GraphQLResult) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(url+"/graphql", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out testkit.GraphQLResult
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return resp.StatusCode, out
}

func TestGraphQL_ProductionSuggestsNoNames(t *testing.T) {
	srv, _ := productionServer(t, nil)
	for name, q := range map[string]string{
		"field":       `{ apiInf { name } }`,
		"subfield":    `{ apiInfo { nam } }`,
		"argument":    `{ contacts(frist: 1) { totalCount } }`,
		"type":        `query($f: ConversationFiltr) { conversations(filter: $f) { totalCount } }`,
		"enum value":  `mutation { sendMessage(input: {to: "1", text: "x", type: TEXTT}) { message { id } } }`,
		"scalar":      `{ apiInfo }`,
		"input field": `mutation { sendMessage(input: {too: "1", text: "x"}) { message { id } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			_, res := postGraphQL(t, srv.URL, q)
			if len(res.Errors) == 0 {
				t.Fatalf("no error for %s", q)
			}
			for _, e := range res.Errors {
				if strings.Contains(e.Message, "Did you mean") || strings.Contains(e.Message, "apiInfo {") {
					t.Errorf("production answer suggests names: %q", e.Message)
				}
			}
		})
	}
}

func TestGraphQL_ProductionIntrospectionIsAClientError(t *testing.T) {
	srv, logs := productionServer(t, nil)
	for name, q := range map[string]string{
		"__schema":           `{ __schema { types { name } } }`,
		"__type":             `{ __type(name: "Query") { name } }`,
		"in a fragment":      `{ ...F } fragment F on Query { __schema { queryType { name } } }`,
		"beside other field": `{ apiInfo { name } ... on Query { __type(name: "User") { name } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			_, res := postGraphQL(t, srv.URL, q)
			if len(res.Errors) != 1 || res.Code() == "INTERNAL" || res.Code() == "" ||
				!strings.Contains(res.Errors[0].Message, "introspection") {
				t.Fatalf("introspection answered: %+v", res.Errors)
			}
			if len(res.Data) > 0 && string(res.Data) != "null" {
				t.Errorf("nothing may run: data %s", res.Data)
			}
		})
	}
	// __typename is not introspection of the schema; clients (Apollo) add it everywhere.
	if _, res := postGraphQL(t, srv.URL, `{ __typename apiInfo { __typename name } }`); len(res.Errors) != 0 {
		t.Errorf("__typename refused: %+v", res.Errors)
	}
	if l := logs.String(); strings.Contains(l, `"level":"ERROR"`) {
		t.Errorf("introspection attempts were logged as errors:\n%s", l)
	}
}

func TestProduction_WarnsWhenNoProxyIsTrusted(t *testing.T) {
	const warning = "TRUSTED_PROXIES is not set"
	if _, logs := productionServer(t, nil); !strings.Contains(logs.String(), warning) {
		t.Errorf("no warning at start:\n%s", logs)
	}
	if _, logs := productionServer(t, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8"}); strings.Contains(logs.String(), warning) {
		t.Errorf("warned although TRUSTED_PROXIES is set:\n%s", logs)
	}
}
