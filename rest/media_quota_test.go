package rest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Hardening item 9 through POST /media/save: past the company's quota an upload is a
// 413 in the NestJS shape and leaves no file; another company can still upload.
func TestSaveMedia_OverTheCompanyQuotaIs413(t *testing.T) {
	e := newMediaEnv(t)
	file := append(bytes.Clone(pdfHead), make([]byte, 8000)...)
	e.app.Resolver.Media.Quota = int64(len(file)) * 3 / 2
	e.upload(t, "first.pdf", file)
	r := e.send(t, e.token, fileField("second.pdf", bytes.NewReader(file)))
	m := expectError(t, r, http.StatusRequestEntityTooLarge)
	if msg := fmt.Sprint(m["message"]); !strings.Contains(msg, "storage is full") || m["error"] != "Payload Too Large" {
		t.Errorf("body %s", r.Body)
	}
	if files := e.storedFiles(t); len(files) != 1 {
		t.Errorf("stored files %v, want only the first upload", files)
	}
	other := e.send(t, e.otherToken, fileField("other.pdf", bytes.NewReader(file)))
	if other.Status != http.StatusCreated {
		t.Errorf("another company's upload: %d %s", other.Status, other.Body)
	}
}
