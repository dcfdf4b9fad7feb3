package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// zeros yields n zero bytes without allocating them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

const uploadMutation = `mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id type filesize } } }`

// chunkedUpload posts a GraphQL multipart upload of a PDF of size bytes with
// Transfer-Encoding: chunked (no Content-Length), operations being ops.
func chunkedUpload(t *testing.T, app *testkit.App, token, ops string, size int64) (int, []byte) {
	t.Helper()
	const boundary = "b0undary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n" + `{"0":["variables.f"]}` +
		"\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"0\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
	body := io.MultiReader(strings.NewReader(head), &zeros{size - int64(len("%PDF-1.4\n"))},
		strings.NewReader("\r\n--"+boundary+"--\r\n"))
	req, _ := http.NewRequest("POST", app.Server.URL+"/graphql", body)
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestGraphQLUpload_ChunkedFileStreamsInsteadOfFillingMemory(t *testing.T) {
	app := testkit.NewApp(t)
	ten := tenantOf(t, app)
	ops := `{"query":"` + uploadMutation + `","variables":{"f":null}}`
	const size = 40 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code, body := chunkedUpload(t, app, ten.token, ops, size)
	runtime.ReadMemStats(&after)
	var res testkit.GraphQLResult
	if err := json.Unmarshal(body, &res); err != nil || code != 200 || len(res.Errors) > 0 ||
		!strings.Contains(string(res.Data), `"filesize":41943040`) {
		t.Fatalf("chunked upload: %d %s", code, body)
	}
	// The whole process (client and server) allocated far less than the file.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("a %d MB chunked upload allocated %d MB", size>>20, alloc>>20)
	}
}

func TestGraphQLUpload_OversizedOperationsPartIs413(t *testing.T) {
	app := testkit.NewApp(t)
	ten := tenantOf(t, app)
	ops := `{"query":"` + uploadMutation + `","variables":{"f":null,"pad":"` + strings.Repeat("a", 300<<10) + `"}}`
	code, body := chunkedUpload(t, app, ten.token, ops, 1<<10)
	var res testkit.GraphQLResult
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusRequestEntityTooLarge || res.Code() != "BAD_USER_INPUT" {
		t.Errorf("300 KiB operations: %d %.300s", code, body)
	}
	// Within the limit, the same upload is stored.
	code, body = chunkedUpload(t, app, ten.token, `{"query":"`+uploadMutation+`","variables":{"f":null}}`, 1<<10)
	if code != 200 || !strings.Contains(string(body), `"type":"DOCUMENT"`) {
		t.Errorf("small upload: %d %s", code, body)
	}
}
