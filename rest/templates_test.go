package rest_test

import (
	"net/http"
	"testing"
)

func TestTemplates_SharedOnesAsInTheSpecAndTheCompanysOwn(t *testing.T) {
	w := newWorld(t)
	mine := ownTemplate(t, w.app, w.a.ID, "Hello {{1}}")
	ownTemplate(t, w.app, w.b.ID, "Theirs {{1}}")
	r := w.do(t, "GET", "/template", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var ts []struct {
		Content    string `json:"content"`
		TemplateID int64  `json:"templateId"`
	}
	r.JSON(t, &ts)
	if len(ts) != 3 || ts[0].TemplateID != 1 || ts[0].Content != sharedTemplate1 ||
		ts[1].TemplateID != 2 || ts[1].Content != sharedTemplate2 || ts[2].TemplateID != mine.ID || ts[2].Content != "Hello {{1}}" {
		t.Errorf("templates: %s", r.Body)
	}
	// B sees the shared ones and its own, not A's.
	call(t, w.app, "GET", "/template", w.tokB, nil).JSON(t, &ts)
	if len(ts) != 3 || ts[2].Content != "Theirs {{1}}" {
		t.Errorf("B's templates: %+v", ts)
	}
}
