package server_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/testkit"
)

func TestGraphQL_HugeDocumentsAreRefusedCheaply(t *testing.T) {
	app := testkit.NewApp(t)
	q := "{ apiInfo { " + strings.Repeat("name ", 10000) + "} }"
	start := time.Now()
	res := app.GraphQL("", q, nil)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, "token") {
		t.Fatalf("a 10,000-field document was not refused by the token limit: %+v", res.Errors)
	}
	// Not a timing assertion on the happy path: only a guard against minutes of work.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("refusing it took %v", d)
	}
}

func TestGraphQL_AnonymousUploadIsRefusedBeforeTheFileIsRead(t *testing.T) {
	app := testkit.NewApp(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id } } }","variables":{"f":null}}`)
		_ = mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, err := mw.CreateFormFile("0", "big.bin")
		if err != nil { // the server answered and closed before the file part
			pw.CloseWithError(err)
			return
		}
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 50; i++ { // 50 MB that must never be read
			if _, err := fw.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", app.Server.URL+"/graphql", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "UNAUTHENTICATED") {
		t.Errorf("anonymous upload: %d %s", resp.StatusCode, body)
	}
}
