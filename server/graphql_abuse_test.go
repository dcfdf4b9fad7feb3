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
	"sync/atomic"
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
	// A raw connection: the answer is read while the body is still being written,
	// as a client that streams does (net/http's client may report the broken pipe
	// of a server that answered early instead of its answer).
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.Server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id } } }","variables":{"f":null}}`)
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	_, _ = mw.CreateFormFile("0", "big.bin")
	const fileSize = 50 << 20 // 50 MB that must never be read
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	var written atomic.Int64
	go func() {
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			mw.FormDataContentType(), head.Len()+fileSize+len(tail))
		if _, err := conn.Write(head.Bytes()); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range fileSize >> 20 {
			n, err := conn.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
		_, _ = io.WriteString(conn, tail)
	}()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "UNAUTHENTICATED") {
		t.Errorf("anonymous upload: %d %s", resp.StatusCode, body)
	}
	if w := written.Load(); w >= fileSize {
		t.Errorf("the server read the whole %d-byte file before refusing it", w)
	}
}
