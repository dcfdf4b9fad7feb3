package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/media"
)

// mediaSaved is the answer of POST /media/save: the spec's four fields, plus the
// detected content type and a signed link.
type mediaSaved struct {
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	DocumentType string `json:"documentType"`
	AttachmentID int64  `json:"attachmentId"`
	ContentType  string `json:"contentType"`
	URL          string `json:"url"`
}

// saveMedia is POST /media/save (multipart field "file"). The body is read part by
// part (never ParseMultipartForm, which would buffer it) and the file streams
// straight into storage.
func (a *API) saveMedia(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > media.MaxUploadRequest {
		// Declared too large: say so before reading any of it.
		a.fail(w, r, &http.MaxBytesError{Limit: media.MaxUploadRequest})
		return
	}
	// The server gives an agent's upload 15 minutes to arrive (server.connectionDeadlines).
	r.Body = http.MaxBytesReader(w, r.Body, media.MaxUploadRequest)
	mr, err := r.MultipartReader()
	if err != nil {
		a.fail(w, r, apperr.Invalidf("the request must be multipart/form-data with a file field"))
		return
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			a.fail(w, r, apperr.Invalidf("file should not be empty"))
			return
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				a.fail(w, r, err)
				return
			}
			a.fail(w, r, apperr.Invalidf("the multipart body could not be read"))
			return
		}
		if part.FormName() != "file" {
			// Other fields are skipped; NextPart discards what is left of them.
			continue
		}
		att, err := a.R.UploadMedia(r.Context(), part.FileName(), part)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, mediaSaved{
			Name: att.Filename, Size: att.Filesize, DocumentType: att.Type, AttachmentID: att.ID,
			ContentType: att.ContentType, URL: a.R.AttachmentURL(att),
		})
		return
	}
}

// getMedia is GET (and HEAD) /media/{attachmentId}, for the company's agents and for
// holders of a signed link. http.ServeContent answers ranges and conditional requests.
func (a *API) getMedia(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "attachmentId")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f, err := a.R.OpenMedia(r.Context(), id, q.Get("expires"), q.Get("sig"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	if f.Redirect != "" {
		// Only until the fetcher has the file: nobody may remember this answer.
		h.Set("Cache-Control", "no-store")
		http.Redirect(w, r, f.Redirect, http.StatusTemporaryRedirect)
		return
	}
	h.Set("Cache-Control", "private, max-age=3600")
	defer f.Content.Close()
	att := f.Attachment
	h.Set("Content-Type", att.ContentType)
	// The browser must take the stored type as it is, never run what it serves, and
	// show inline only the media types WhatsApp sends; everything else downloads.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", media.ContentDisposition(media.InlineSafe(att.Type, att.ContentType), att.Filename))
	// Stored files never change: the storage key names one content for good.
	sum := sha256.Sum256([]byte(*att.StorageKey))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", att.CreatedAt, f.Content)
}
