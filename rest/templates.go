package rest

import "net/http"

type legacyTemplate struct {
	Content    string  `json:"content"`
	TemplateID int64   `json:"templateId"`
	Name       string  `json:"name"`
	Language   string  `json:"language"`
	ContentSID *string `json:"contentSid"`
}

// templates is GET /template.
func (a *API) templates(w http.ResponseWriter, r *http.Request) {
	ts, err := a.R.Templates(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]legacyTemplate, 0, len(ts))
	for _, t := range ts {
		out = append(out, legacyTemplate{Content: t.Content, TemplateID: t.ID, Name: t.Name, Language: t.Language, ContentSID: t.ContentSID})
	}
	writeJSON(w, http.StatusOK, out)
}
