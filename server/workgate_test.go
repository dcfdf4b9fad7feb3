package server_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// TestWorkingRequests holds the only place to work with a read waiting on a
// locked table and checks what the gate promises: the next reads (a REST GET, a
// GraphQL query) wait for it and are counted as waiting, instead of being refused
// or served beside it; writes (a GraphQL mutation, a REST PUT), probes and
// websockets do not wait; the waiters are served once the place frees.
func TestWorkingRequests(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WorkingRequests = 1; c.RequestTimeout = time.Minute })
	ten := tenantOf(t, app)
	before := scrape(t, app)

	release, held := holdOnLockedTable(t, app, ten.token)
	holding := time.Now() // the holder has its place: it waits on the lock

	rest := make(chan int, 1)
	go authGet(app, ten.token, "/template", rest)
	eventually(t, 5*time.Second, "the GET waits", func() bool {
		return scrape(t, app)["connectme_http_requests_waiting"] == 1
	})
	query := make(chan *testkit.Response, 1)
	go func() { query <- app.Do("POST", "/graphql", ten.token, map[string]any{"query": "{ me { id } }"}) }()
	eventually(t, 5*time.Second, "the query waits", func() bool {
		return scrape(t, app)["connectme_http_requests_waiting"] == 2
	})
	bothWaiting := time.Now()

	// Writes, probes and websockets do not queue.
	r := app.Do("POST", "/graphql", ten.token, map[string]any{
		"query": `mutation { updateProfile(input: {firstName: "Ada"}) { user { firstName } } }`})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"firstName":"Ada"`) {
		t.Errorf("a mutation while the place is held: %d %s", r.Status, r.Body)
	}
	if r := app.Do("PUT", "/profile", ten.token, map[string]any{"userId": ten.agent.ID, "firstName": "Grace", "lastName": "Hopper", "phone": "+94717936775"}); r.Status != 200 {
		t.Errorf("PUT /profile while the place is held: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := app.Do("GET", p, "", nil); r.Status != 200 {
			t.Errorf("%s while the place is held: %d", p, r.Status)
		}
	}
	if _, err := dialWS(t, app, "graphql-transport-ws", ten.token); err != nil {
		t.Errorf("websocket while the place is held: %v", err)
	}
	select {
	case code := <-rest:
		t.Fatalf("the GET answered %d while the only place was held", code)
	case r := <-query:
		t.Fatalf("the query answered %d while the only place was held", r.Status)
	default:
	}

	released := time.Now()
	release()
	if code := <-held; code != http.StatusOK {
		t.Errorf("the request holding the place answered %d", code)
	}
	if code := <-rest; code != http.StatusOK {
		t.Errorf("the waiting GET answered %d once the place freed", code)
	}
	if r := <-query; r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"me":{"id":`) {
		t.Errorf("the waiting query answered %d %s once the place freed", r.Status, r.Body)
	}
	after := scrape(t, app)
	if got := after["connectme_http_requests_waiting"]; got != 0 {
		t.Errorf("still waiting after all answered: %v", got)
	}
	// Every turn is timed: three reads took one (the holder, the GET, the query);
	// the two queued ones waited at least from when both were seen waiting until
	// the place freed, and the holder held it from before the first queued.
	turns := func(series string) (n, sum float64) {
		return after[series+"_count"] - before[series+"_count"], after[series+"_sum"] - before[series+"_sum"]
	}
	waits, waited := turns("connectme_http_read_wait_seconds")
	works, worked := turns("connectme_http_read_work_seconds")
	if waits != 3 || works != 3 {
		t.Errorf("turns timed: %v waits and %v works, want 3 and 3", waits, works)
	}
	if least := 2 * released.Sub(bothWaiting).Seconds(); waited < least {
		t.Errorf("the queued reads waited %.3fs in all, want at least %.3fs", waited, least)
	}
	if least := released.Sub(holding).Seconds(); worked < least {
		t.Errorf("the reads worked %.3fs in all, want at least the holder's %.3fs", worked, least)
	}
}

// TestWorkingRequests_TurnNotInTime checks that a read whose turn does not come
// before its context ends (REQUEST_TIMEOUT, or here the client's own deadline) is
// 503 in its surface's shape, and counted.
func TestWorkingRequests_TurnNotInTime(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WorkingRequests = 1; c.RequestTimeout = time.Minute })
	ten := tenantOf(t, app)
	release, held := holdOnLockedTable(t, app, ten.token)

	for _, tc := range []struct {
		method, path, body, want string
	}{
		{"GET", "/template", "", `{"statusCode":503,"message":"the server is busy; try again shortly","error":"Service Unavailable"}`},
		{"POST", "/graphql", `{"query":"{ me { id } }"}`,
			`{"data":null,"errors":[{"extensions":{"code":"UNAVAILABLE"},"message":"the server is busy; try again shortly"}]}`},
		{"GET", "/graphql?query=%7B+me+%7B+id+%7D+%7D", "",
			`{"data":null,"errors":[{"extensions":{"code":"UNAVAILABLE"},"message":"the server is busy; try again shortly"}]}`},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		req := httptest.NewRequestWithContext(ctx, tc.method, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+ten.token)
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		app.App.Handler.ServeHTTP(rec, req)
		cancel()
		if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || strings.TrimSpace(rec.Body.String()) != tc.want {
			t.Errorf("%s %s waiting past its deadline: %d %v %s", tc.method, tc.path, rec.Code, rec.Header(), rec.Body)
		}
	}
	if got := scrape(t, app)["connectme_http_requests_shed_total"]; got != 3 {
		t.Errorf("reads refused after waiting counted %v times; want 3", got)
	}
	release()
	if code := <-held; code != http.StatusOK {
		t.Errorf("the request holding the place answered %d", code)
	}
}

// TestWorkingRequests_SyncTemplatesHoldsNoPlace: syncTemplates, a mutation, takes
// no place while it waits on Twilio's Content API, so with one place a stalled
// listing does not hold up the reads.
func TestWorkingRequests_SyncTemplatesHoldsNoPlace(t *testing.T) {
	f := testkit.NewContentAPI(t)
	f.PageSize, f.Delay = 1, 2*time.Second
	f.Set(testkit.Content("HXa", "a", "A {{1}}", "approved", "x"))
	app := testkit.NewApp(t, testkit.WithContentAPI(f), func(c *config.Config) {
		c.WorkingRequests = 1
		c.RequestTimeout = time.Minute
	})
	ten := tenantOf(t, app)
	owner, _, err := app.Resolver.Tokens.Issue(ten.agent.ID, ten.company.ID, db.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	// The periodic sync at start reads the listing first; let it end.
	eventually(t, 20*time.Second, "the sync at start ended", func() bool {
		var n int
		_ = app.DB.NewRaw(`SELECT count(*) FROM periodic_tasks WHERE name = 'sync_templates'
			AND locked_until IS NULL AND run_at > now()`).Scan(t.Context(), &n)
		return n == 1 && f.InFlight.Load() == 0
	})
	before := f.Requests.Load()
	synced := make(chan *testkit.Response, 1)
	go func() {
		synced <- app.Do("POST", "/graphql", owner, map[string]any{"query": `mutation { syncTemplates { added updated removed } }`})
	}()
	eventually(t, 5*time.Second, "the sync reads the listing", func() bool { return f.Requests.Load() > before })
	if r := app.Do("GET", "/template", ten.token, nil); r.Status != 200 {
		t.Errorf("GET /template while syncTemplates waits on the provider: %d %s", r.Status, r.Body)
	}
	if f.InFlight.Load() != 1 {
		t.Errorf("GET /template was answered only after the listing (in flight %d): the sync held the only place", f.InFlight.Load())
	}
	if w := scrape(t, app)["connectme_http_requests_waiting"]; w != 0 {
		t.Errorf("%v requests wait while only the sync is in flight", w)
	}
	if r := <-synced; r.Status != 200 || !strings.Contains(string(r.Body), `"syncTemplates":{`) {
		t.Errorf("syncTemplates: %d %s", r.Status, r.Body)
	}
}

// holdOnLockedTable locks the conversations table in a transaction of its own and
// sends a conversation page that waits on the lock, holding whatever place or slot
// it took; it returns once the request waits. release rolls the transaction back;
// the request's status then arrives on held.
func holdOnLockedTable(t *testing.T, app *testkit.App, token string) (release func(), held <-chan int) {
	t.Helper()
	release = lockConversations(t, app)
	out := make(chan int, 1)
	go authGet(app, token, "/conversation/conversation-page-list?page=1&limit=10", out)
	awaitLockWaiter(t, app)
	return release, out
}

// lockConversations locks the conversations table in a transaction until release
// (or the test's end) rolls it back.
func lockConversations(t *testing.T, app *testkit.App) (release func()) {
	t.Helper()
	tx, err := app.DB.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

// awaitLockWaiter returns once a statement waits on the conversations table's lock.
func awaitLockWaiter(t *testing.T, app *testkit.App) {
	t.Helper()
	eventually(t, 10*time.Second, "a request waits on the lock", func() bool {
		var waiting int
		_ = app.DB.NewRaw("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'conversations'::regclass").
			Scan(t.Context(), &waiting)
		return waiting > 0
	})
}

// authGet sends GET path with the token and sends the status (0 on a transport
// error) on out.
func authGet(app *testkit.App, token, path string, out chan<- int) {
	req, _ := http.NewRequest("GET", app.Server.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		out <- 0
		return
	}
	resp.Body.Close()
	out <- resp.StatusCode
}

// TestWorkingRequests_SlowReaderHoldsNoPlace: a read gives its place back once its
// answer is made, so a client that does not read its answer holds a connection, not
// a place. With one place, each read below blocks in writing its answer, and
// another read is still served.
func TestWorkingRequests_SlowReaderHoldsNoPlace(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WorkingRequests = 1; c.RequestTimeout = 2 * time.Second })
	ten := tenantOf(t, app)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/template", ""},
		{"POST", "/graphql", `{"query":"{ templates { id name } }"}`},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+ten.token)
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		client := &stuckClient{header: http.Header{}, writing: make(chan struct{}), release: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			app.App.Handler.ServeHTTP(client, req)
		}()
		select {
		case <-client.writing:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s never wrote its answer", tc.method, tc.path)
		}
		if r := app.Do("GET", "/template", ten.token, nil); r.Status != 200 {
			t.Errorf("a read while %s %s is stuck writing to its client: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
		close(client.release)
		<-done
		if client.status != 200 || !strings.Contains(client.body.String(), "order_shipped") ||
			client.header.Get("Content-Length") != strconv.Itoa(client.body.Len()) && tc.method == "GET" {
			t.Errorf("%s %s answered %d %v %s", tc.method, tc.path, client.status, client.header, client.body.String())
		}
	}
}

// stuckClient is a client that does not read its answer: the first Write blocks
// until release.
type stuckClient struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	writing chan struct{}
	release chan struct{}
	once    sync.Once
}

func (c *stuckClient) Header() http.Header { return c.header }

func (c *stuckClient) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *stuckClient) Write(p []byte) (int, error) {
	c.once.Do(func() { close(c.writing) })
	<-c.release
	if c.status == 0 {
		c.status = 200
	}
	return c.body.Write(p)
}

// TestWorkingRequests_MultipartQueryWaitsNoLonger: uploads are let off
// REQUEST_TIMEOUT, but a GraphQL query sent as a multipart request is still a
// read: it waits for its turn no longer than REQUEST_TIMEOUT, then is answered
// 503, even behind a holder that never lets go (another multipart query stuck on
// a locked table, itself without a deadline).
func TestWorkingRequests_MultipartQueryWaitsNoLonger(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) { c.WorkingRequests = 1; c.RequestTimeout = 300 * time.Millisecond })
	ten := tenantOf(t, app)
	release := lockConversations(t, app)
	multipartQuery := func(ctx context.Context, query string) (int, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("operations", `{"query":`+strconv.Quote(query)+`}`)
		_ = mw.WriteField("map", `{}`)
		_ = mw.Close()
		req, _ := http.NewRequestWithContext(ctx, "POST", app.Server.URL+"/graphql", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+ten.token)
		resp, err := app.Server.Client().Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	held := make(chan int, 1)
	go func() {
		code, _ := multipartQuery(t.Context(), `{ conversations(first: 1) { edges { cursor } } }`)
		held <- code
	}()
	awaitLockWaiter(t, app)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	code, body := multipartQuery(ctx, `{ me { id } }`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"UNAVAILABLE"`) {
		t.Fatalf("a multipart query behind a held place: %d %s", code, body)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 4*time.Second {
		t.Errorf("answered after %v; REQUEST_TIMEOUT is 300ms", d)
	}
	release()
	if code := <-held; code != http.StatusOK {
		t.Errorf("the holder answered %d", code)
	}
}
