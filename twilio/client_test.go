package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/connectme/connectme/twilio"
)

// fakeTwilio answers the Messages API like Twilio does and keeps the last request.
type fakeTwilio struct {
	status int
	answer string
	got    url.Values
	user   string
	pass   string
	path   string
	ctype  string
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.path = r.Method + " " + r.URL.Path
	f.ctype = r.Header.Get("Content-Type")
	f.user, f.pass, _ = r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.got = r.PostForm
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	fmt.Fprint(w, f.answer)
}

func newFake(t *testing.T, status int, answer string) (*fakeTwilio, *twilio.Client) {
	t.Helper()
	f := &fakeTwilio{status: status, answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, twilio.NewClient("AC123", "secret-token", srv.URL+"/")
}

func TestSend_PostsTheFormWithBasicAuth(t *testing.T) {
	f, c := newFake(t, http.StatusCreated, `{"sid":"SM0001","status":"queued","error_code":null}`)
	res, err := c.Send(context.Background(), &twilio.Message{
		From: "whatsapp:+14155550000", To: "whatsapp:+94717936775", Body: "Hello there",
		MediaURLs:      []string{"https://cm.example/media/1?sig=a", "https://cm.example/media/2?sig=b"},
		StatusCallback: "https://cm.example/message/status",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.SID != "SM0001" || res.Status != "queued" || res.ErrorCode != "" {
		t.Errorf("result = %+v", res)
	}
	if f.path != "POST /2010-04-01/Accounts/AC123/Messages.json" {
		t.Errorf("request = %q", f.path)
	}
	if f.user != "AC123" || f.pass != "secret-token" {
		t.Errorf("basic auth = %q:%q", f.user, f.pass)
	}
	if f.ctype != "application/x-www-form-urlencoded" {
		t.Errorf("content type = %q", f.ctype)
	}
	want := url.Values{
		"From":           {"whatsapp:+14155550000"},
		"To":             {"whatsapp:+94717936775"},
		"Body":           {"Hello there"},
		"MediaUrl":       {"https://cm.example/media/1?sig=a", "https://cm.example/media/2?sig=b"},
		"StatusCallback": {"https://cm.example/message/status"},
	}
	if !reflect.DeepEqual(f.got, want) {
		t.Errorf("form = %v, want %v", f.got, want)
	}
}

func TestSend_TemplateGoesAsContentSidWithoutBody(t *testing.T) {
	f, c := newFake(t, http.StatusCreated, `{"sid":"SM0002","status":"accepted"}`)
	_, err := c.Send(context.Background(), &twilio.Message{
		From: "whatsapp:+14155550000", To: "whatsapp:+94717936775", Body: "Hi Ann! rendered",
		ContentSID: "HXabc", ContentVariables: []string{"Ann", `a "quoted" value`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.got.Has("Body") {
		t.Errorf("Body sent with a ContentSid: %q", f.got.Get("Body"))
	}
	if f.got.Get("ContentSid") != "HXabc" {
		t.Errorf("ContentSid = %q", f.got.Get("ContentSid"))
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(f.got.Get("ContentVariables")), &vars); err != nil {
		t.Fatalf("ContentVariables %q: %v", f.got.Get("ContentVariables"), err)
	}
	if want := map[string]string{"1": "Ann", "2": `a "quoted" value`}; !reflect.DeepEqual(vars, want) {
		t.Errorf("ContentVariables = %v, want %v", vars, want)
	}
}

func TestSend_ErrorsArePermanentOnlyForTheMessagesFault(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		answer    string
		permanent bool
		code      int
	}{
		{"invalid To number", 400, `{"code":21211,"message":"Invalid 'To' Phone Number","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, true, 21211},
		{"template required", 400, `{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window.","status":400}`, true, 63016},
		{"not found, not JSON", 404, `<html>nope</html>`, true, 0},
		{"too many requests", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, false, 20429},
		{"bad credentials", 401, `{"code":20003,"message":"Authenticate","status":401}`, false, 20003},
		{"server error", 500, `{"code":20500,"message":"Internal Server Error","status":500}`, false, 20500},
		{"bad gateway", 502, ``, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, tt.status, tt.answer)
			_, err := c.Send(context.Background(), &twilio.Message{From: "whatsapp:+1", To: "whatsapp:+2", Body: "x"})
			var te *twilio.Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *twilio.Error", err)
			}
			if te.HTTPStatus != tt.status || te.Code != tt.code || te.Message == "" {
				t.Errorf("error = %+v", te)
			}
			if got := twilio.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
		})
	}
}

func TestSend_NetworkErrorIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := twilio.NewClient("AC123", "tok", srv.URL)
	_, err := c.Send(context.Background(), &twilio.Message{From: "whatsapp:+1", To: "whatsapp:+2", Body: "x"})
	if err == nil || twilio.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
}

func TestSend_UnreadableSuccessIsTemporary(t *testing.T) {
	_, c := newFake(t, http.StatusCreated, `not json`)
	_, err := c.Send(context.Background(), &twilio.Message{From: "whatsapp:+1", To: "whatsapp:+2", Body: "x"})
	if err == nil || twilio.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
}
