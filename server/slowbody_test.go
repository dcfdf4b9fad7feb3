package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/testkit"
)

// trickler is a real client that sends its request head at once, then its body one
// byte every interval, as a slow-body attack does.
type trickler struct {
	conn net.Conn
	stop chan struct{}
	done chan struct{}
}

// trickle opens a connection to app, writes head (ending in the blank line), then
// writes body one byte every interval until it is stopped or the body is sent.
func trickle(t *testing.T, addr, head string, body []byte, interval time.Duration) *trickler {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := &trickler{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for _, b := range body {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	t.Cleanup(tr.close)
	return tr
}

func (tr *trickler) close() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	_ = tr.conn.Close()
	<-tr.done
}

// response reads the answer the server sends on the trickling connection.
func (tr *trickler) response(t *testing.T, within time.Duration) (int, string) {
	t.Helper()
	_ = tr.conn.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(bufio.NewReader(tr.conn), nil)
	if err != nil {
		t.Fatalf("no answer on the trickling connection within %s: %v", within, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func hostOf(app *testkit.App) string { return strings.TrimPrefix(app.Server.URL, "http://") }

func TestSlowBodies_DoNotHoldTheConcurrencySlots(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) {
		c.MaxConcurrentRequests = 4
		c.BodyTimeout = 2 * time.Second
	})
	ten := tenantOf(t, app)
	body := []byte(`{"email":"nobody@example.com","password":"not-the-password"}`)
	head := fmt.Sprintf("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	gqlBody := []byte(`{"query":"{ me { id } }"}`)
	gqlHead := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(gqlBody))
	var slow []*trickler
	for i := range 8 {
		if i%2 == 0 {
			slow = append(slow, trickle(t, hostOf(app), head, body, 100*time.Millisecond))
		} else {
			slow = append(slow, trickle(t, hostOf(app), gqlHead, gqlBody, 100*time.Millisecond))
		}
	}
	// Every trickling request has reached the server's handlers (still in flight,
	// or shed at once when the slots are taken).
	eventually(t, 10*time.Second, "the trickling requests reached the server", func() bool {
		m := scrape(t, app)
		return m["connectme_http_requests_in_flight"]-1+m["connectme_http_requests_shed_total"] >= 8
	})
	// Twice as many slow clients as slots, and everyone else is served.
	for i := range 12 {
		if r := app.Do("GET", "/template", ten.token, nil); r.Status != 200 {
			t.Fatalf("request %d while 8 clients trickle: %d %s", i, r.Status, r.Body)
		}
		if g := app.GraphQL(ten.token, `{ me { id } }`, nil); len(g.Errors) > 0 {
			t.Fatalf("GraphQL %d while 8 clients trickle: %+v", i, g.Errors)
		}
	}
	// The slow bodies are cut off at BODY_TIMEOUT with a 408 in their surface's shape.
	for i, tr := range slow {
		code, b := tr.response(t, 10*time.Second)
		want := `"statusCode":408`
		if i%2 == 1 {
			want = `"errors":[`
		}
		if code != http.StatusRequestTimeout || !strings.Contains(b, want) {
			t.Errorf("trickler %d: %d %s", i, code, b)
		}
	}
}

// uploadHead is the head of a chunked multipart POST to path.
func uploadHead(path, token, boundary string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\nContent-Length: 100000\r\n\r\n"
}

// restUpload posts a small PDF to /media/save.
func restUpload(t *testing.T, app *testkit.App, token string) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "a.pdf")
	_, _ = fw.Write([]byte("%PDF-1.4\n%%EOF\n"))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", app.Server.URL+"/media/save", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestUploads_HaveTheirOwnPoolCappedPerAgent(t *testing.T) {
	app := testkit.NewApp(t, func(c *config.Config) {
		c.MaxConcurrentRequests = 2
		c.UploadsPerAgent = 2
	})
	a := tenantOf(t, app)
	b := testkit.Agent(t, app.DB, a.company.ID)
	// Agent a's two uploads trickle: one through REST, one through GraphQL.
	const boundary = "xyz"
	restBody := []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\n" + strings.Repeat("a", 500))
	gqlBody := []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" +
		`{"query":"mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id } } }","variables":{"f":null}}` +
		"\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n" + `{"0":["variables.f"]}` +
		"\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\n" + strings.Repeat("a", 500))
	trickle(t, hostOf(app), uploadHead("/media/save", a.token, boundary), restBody, 50*time.Millisecond)
	trickle(t, hostOf(app), uploadHead("/graphql", a.token, boundary), gqlBody, 10*time.Millisecond)
	// Both are admitted before the third starts (else the third may take a slot
	// first and a trickler be the one refused).
	eventually(t, 10*time.Second, "both trickling uploads are in flight", func() bool {
		return scrape(t, app)["connectme_http_requests_in_flight"]-1 >= 2 // less the scrape
	})

	// A third upload of the same agent is refused with 429 and Retry-After, in
	// REST's shape and GraphQL's.
	var resp *http.Response
	var codes []int
	eventually(t, 20*time.Second, "agent a's third upload is refused", func() bool {
		resp = restUpload(t, app, a.token)
		codes = append(codes, resp.StatusCode)
		return resp.StatusCode == http.StatusTooManyRequests
	})
	if len(codes) > 5 {
		t.Errorf("the cap took %d uploads to apply: %v", len(codes), codes)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %v", resp.Header)
	}
	r := app.Do("POST", "/graphql", a.token, "--"+boundary+"\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--"+boundary+"--\r\n",
		"Content-Type", "multipart/form-data; boundary="+boundary)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "RATE_LIMITED") ||
		!strings.Contains(string(r.Body), `"retryAfter":`+r.Header.Get("Retry-After")) {
		t.Errorf("GraphQL upload over the cap: %d %v %s", r.Status, r.Header, r.Body)
	}
	// Another agent uploads, and ordinary requests are served: uploads take no
	// ordinary slot.
	if resp := restUpload(t, app, app.Token(b)); resp.StatusCode != http.StatusCreated {
		t.Errorf("agent b's upload: %d", resp.StatusCode)
	}
	for i := range 5 {
		if r := app.Do("GET", "/template", a.token, nil); r.Status != 200 {
			t.Errorf("ordinary request %d while uploads trickle: %d %s", i, r.Status, r.Body)
		}
	}
}
