package resolvers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/media"
)

// UploadMedia stores a file for the caller's company and records it as an attachment
// (not yet on any message). Its type comes from its content; WhatsApp's size limit
// of that type applies while it streams to storage, so body may be as large as the
// client likes without reaching memory. filename is kept, cleaned, for display only.
// REST POST /media/save and the GraphQL uploadMedia mutation both call it.
func (r *Resolver) UploadMedia(ctx context.Context, filename string, body io.Reader) (*db.Attachment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if media.RunnableName(filename) {
		// Refused before a byte is read: a .bat or .hta is plain text to Classify.
		return nil, apperr.Invalidf("executable files and scripts are not accepted (a recipient's computer would run %q)", media.CleanFilename(filename, ""))
	}
	if err := r.checkMediaQuota(ctx, r.DB, p.CompanyID, 0); err != nil {
		// Refused before a byte is read when the company is already at its quota.
		return nil, err
	}
	saved, err := r.Media.Save(ctx, body)
	if err != nil {
		return nil, mediaError(err)
	}
	key := saved.Key
	att := &db.Attachment{
		CompanyID:   p.CompanyID,
		Type:        saved.Type,
		Filename:    media.CleanFilename(filename, saved.Extension),
		Filesize:    saved.Size,
		ContentType: saved.ContentType,
		StorageKey:  &key,
		State:       db.AttachmentStored,
		// The clock decides when an upload never sent is purged.
		CreatedAt: r.now(),
	}
	if err := r.recordUpload(ctx, att); err != nil {
		// No row points at the file: do not keep it.
		_ = r.Media.Storage.Delete(context.WithoutCancel(ctx), key)
		return nil, err
	}
	return att, nil
}

// mediaError turns the media package's refusals into application errors.
func mediaError(err error) error {
	var refused *media.RefusedError
	var tooLarge *media.TooLargeError
	var readErr *media.ReadError
	var maxBytes *http.MaxBytesError
	switch {
	case errors.Is(err, media.ErrEmpty):
		return apperr.Invalidf("file should not be empty")
	case errors.As(err, &refused):
		return apperr.Invalidf("executable files and scripts are not accepted")
	case errors.As(err, &tooLarge):
		return apperr.New(apperr.TooLarge, "%s", tooLarge.Error())
	case errors.As(err, &maxBytes):
		return apperr.New(apperr.TooLarge, "the upload is larger than %d MB", maxBytes.Limit/media.MB)
	case errors.As(err, &readErr):
		return apperr.Invalidf("the upload was cut short or could not be read")
	}
	return err
}

// AttachmentURL returns the absolute link through which a browser or the provider
// fetches an attachment: a signed link to GET /media/{id}, valid for a day. An inbound
// attachment that is still being downloaded points at the provider's URL instead.
// The GraphQL Attachment.url field and the delivery worker call it.
func (r *Resolver) AttachmentURL(att *db.Attachment) string {
	if att.State == db.AttachmentPending && att.SourceURL != nil {
		return *att.SourceURL
	}
	return r.Media.URL(att.ID, r.now())
}

// AttachmentForSend returns an attachment of the caller's company to send with a
// message, FORBIDDEN for another company's (or a missing) one, BAD_USER_INPUT for
// one whose download failed.
func (r *Resolver) AttachmentForSend(ctx context.Context, id int64) (*db.Attachment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	att, err := r.companyAttachment(ctx, p.CompanyID, id)
	if err != nil {
		return nil, err
	}
	if att.State == db.AttachmentFailed {
		return nil, apperr.Invalidf("attachment %d could not be fetched from the provider and cannot be sent", id)
	}
	return att, nil
}

// companyAttachment returns an attachment of the company; FORBIDDEN otherwise,
// whether or not it exists.
func (r *Resolver) companyAttachment(ctx context.Context, companyID, id int64) (*db.Attachment, error) {
	att, err := db.AttachmentByID(ctx, r.DB, companyID, id)
	if errors.Is(err, db.ErrNotFound) || errors.Is(err, db.ErrForeign) {
		return nil, apperr.New(apperr.Forbidden, "you don't have access to this attachment")
	}
	if err != nil {
		return nil, fmt.Errorf("load attachment: %w", err)
	}
	return att, nil
}

// MediaFile is an attachment's content to serve, or where it is for now.
type MediaFile struct {
	// Attachment is the row, for the headers.
	Attachment *db.Attachment
	// Content is the stored file; the caller closes it. Nil when Redirect is set.
	Content io.ReadSeekCloser
	// Redirect is the provider's URL of inbound media not downloaded yet.
	Redirect string
}

// OpenMedia opens attachment id for GET /media/{id}. A valid signed link (expires and
// sig from its query) opens it for anyone; otherwise the caller must be an agent of
// its company. A bad or expired link and another company's attachment are FORBIDDEN,
// an anonymous request without a link UNAUTHENTICATED.
func (r *Resolver) OpenMedia(ctx context.Context, id int64, expires, sig string) (*MediaFile, error) {
	signed := expires != "" || sig != ""
	var att *db.Attachment
	var err error
	switch p := auth.FromContext(ctx); {
	case signed && r.Media.Signer.Verify(id, expires, sig, r.now()) == nil:
		att, err = db.AttachmentByIDAnyCompany(ctx, r.DB, id)
		if errors.Is(err, db.ErrNotFound) {
			return nil, apperr.New(apperr.NotFound, "this media no longer exists")
		}
		if err != nil {
			return nil, fmt.Errorf("load attachment: %w", err)
		}
	case p != nil:
		if att, err = r.companyAttachment(ctx, p.CompanyID, id); err != nil {
			return nil, err
		}
	case signed:
		return nil, apperr.New(apperr.Forbidden, "this media link is invalid or has expired")
	default:
		return nil, apperr.New(apperr.Unauthenticated, "Unauthorized")
	}
	switch {
	case att.State == db.AttachmentStored && att.StorageKey != nil:
		f, err := r.Media.Storage.Open(ctx, *att.StorageKey)
		if errors.Is(err, fs.ErrNotExist) {
			r.Log.ErrorContext(ctx, "stored media file is missing", "attachment_id", att.ID)
			return nil, apperr.New(apperr.NotFound, "this media is not available")
		}
		if err != nil {
			return nil, fmt.Errorf("open media: %w", err)
		}
		return &MediaFile{Attachment: att, Content: f}, nil
	case att.State == db.AttachmentPending && att.SourceURL != nil:
		return &MediaFile{Attachment: att, Redirect: *att.SourceURL}, nil
	}
	return nil, apperr.New(apperr.NotFound, "this media is not available")
}
