package twilio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestListContent_NextPageOnlyOnTheConfiguredHost: the credentials never go to a
// next_page_url on another host, and a listing that never ends is an error.
func TestListContent_NextPageOnlyOnTheConfiguredHost(t *testing.T) {
	for _, c := range []struct{ name, next string }{
		{"another host", "https://evil.example.com/v1/ContentAndApprovals?Page=1"},
		{"itself", "/v1/ContentAndApprovals?PageSize=500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]any{"contents": []any{}, "meta": map[string]any{"next_page_url": c.next}})
			}))
			defer srv.Close()
			cl := &ContentClient{AccountSID: "AC", AuthToken: "t", BaseURL: srv.URL}
			if _, err := cl.ListContent(t.Context()); err == nil {
				t.Fatal("followed")
			}
		})
	}
}

func TestContent_BodyAndVariables(t *testing.T) {
	var c Content
	raw := `{"sid":"HX1","variables":{"10":"j","2":"b","1":"a","name":"n"},
		"types":{"twilio/card":{"title":"T"},"twilio/quick-reply":{"body":"Q {{1}}"},"twilio/text":{"body":"Text {{1}}"}}}`
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	if c.Body() != "Text {{1}}" || fmt.Sprint(c.VariableValues()) != "[a b j n]" {
		t.Errorf("body %q variables %v", c.Body(), c.VariableValues())
	}
	delete(c.Types, "twilio/text")
	if c.Body() != "T" { // twilio/card sorts first: its title
		t.Errorf("body %q", c.Body())
	}
}
