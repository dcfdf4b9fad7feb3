package resolvers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/connectme/connectme/testkit"
)

// pngBytes is the smallest PNG header the type sniffer recognises, padded.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), make([]byte, 64)...)

func uploadGraphQL(t *testing.T, app *testkit.App, token, filename string, content []byte) *testkit.GraphQLResult {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadMedia(file: $f) { attachment { id type filename filesize contentType url } } }","variables":{"f":null}}`)
	_ = w.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := w.CreateFormFile("0", filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", app.Server.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out testkit.GraphQLResult
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	return &out
}

func TestUploadMedia_GraphQLMultipartStoresAndSignsURL(t *testing.T) {
	app := testkit.NewApp(t)
	a, b := newTenant(t, app), newTenant(t, app)
	res := uploadGraphQL(t, app, a.token, "../../etc/photo.png", pngBytes)
	if len(res.Errors) > 0 {
		t.Fatalf("upload: %+v", res.Errors)
	}
	var out struct {
		UploadMedia struct {
			Attachment struct {
				ID, Type, Filename, ContentType, URL string
				Filesize                             int
			}
		}
	}
	_ = json.Unmarshal(res.Data, &out)
	att := out.UploadMedia.Attachment
	if att.Type != "IMAGE" || att.Filename != "photo.png" || att.ContentType != "image/png" || att.Filesize != len(pngBytes) {
		t.Errorf("attachment %+v", att)
	}
	if !strings.Contains(att.URL, "/media/"+att.ID+"?") || !strings.Contains(att.URL, "sig=") {
		t.Errorf("url %q is not a signed media link", att.URL)
	}
	// The signed link works without a token.
	u := strings.Replace(att.URL, app.Config.PublicBaseURL, app.Server.URL, 1)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, pngBytes) {
		t.Errorf("signed GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	// Another company cannot send it.
	conv := testkit.Conversation(t, app.DB, b.company.ID, ago(app, 1))
	wantCode(t, app, b.token, sendMutation, map[string]any{"in": map[string]any{"to": conv.UserID, "attachmentId": att.ID}}, "FORBIDDEN")
	// Without a token, nothing is stored.
	if res := uploadGraphQL(t, app, "", "x.png", pngBytes); res.Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous upload: %+v", res.Errors)
	}
	// An executable named .png is refused.
	if res := uploadGraphQL(t, app, a.token, "evil.png", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...)); res.Code() != "BAD_USER_INPUT" {
		t.Errorf("ELF upload: %+v", res.Errors)
	}
}
