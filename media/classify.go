// Package media keeps CONNECTME's files: it decides a file's type from its content,
// applies WhatsApp's size limits while the file streams into storage, stores it under
// a generated name, signs expiring links to it, and downloads inbound media from the
// provider in the background.
package media

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/connectme/connectme/db"
)

// MB is the megabyte of WhatsApp's limits. They are stated in decimal megabytes, and
// the smaller reading is the one the provider is sure to accept.
const MB = 1_000_000

// WhatsApp's size limit of each attachment type.
const (
	MaxImage    = 5 * MB
	MaxVideo    = 16 * MB
	MaxAudio    = 16 * MB
	MaxDocument = 100 * MB
)

// MaxUploadRequest bounds a whole upload request: the largest file plus room for the
// multipart boundaries, headers and a few small fields.
const MaxUploadRequest = MaxDocument + 1<<20

// SniffLen is how many leading bytes decide a file's type (mimetype's read limit:
// enough for the zip entries that tell the office formats apart).
const SniffLen = 4096

// Kind is what the content of a file says it is.
type Kind struct {
	// Type is IMAGE, VIDEO, AUDIO or DOCUMENT.
	Type string
	// ContentType is the detected MIME type, served back with the file.
	ContentType string
	// Extension is the usual extension of ContentType (".pdf"), or "".
	Extension string
	// Limit is the largest size of a file of this type, in bytes.
	Limit int64
}

// ErrEmpty is returned for a file with no content.
var ErrEmpty = errors.New("the file is empty")

// RefusedError is returned for content we never store or serve: programs and scripts.
type RefusedError struct{ ContentType string }

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("executable files are not accepted (%s)", e.ContentType)
}

// TooLargeError is returned when a file is larger than its type allows.
type TooLargeError struct {
	Type  string
	Limit int64
}

// Error implements error; the message is safe to show to the client.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s files may be at most %d MB", strings.ToLower(e.Type), e.Limit/MB)
}

// The MIME types WhatsApp accepts for each media type (aliases included by
// mimetype's Is). Anything else that is not refused is a DOCUMENT.
var (
	imageTypes = []string{"image/jpeg", "image/png"}
	videoTypes = []string{"video/mp4", "video/3gpp"}
	audioTypes = []string{"audio/aac", "audio/mp4", "audio/x-m4a", "audio/mpeg", "audio/amr", "audio/ogg"}
	// refusedTypes are programs: a recipient who opens one runs it. A type refuses
	// its whole subtree (application/x-elf covers executables, libraries, cores).
	refusedTypes = []string{
		"application/vnd.microsoft.portable-executable",
		"application/x-elf",
		"application/x-mach-binary",
		"application/x-ms-installer",
		"application/x-ms-shortcut",
		"application/java-archive",
		"application/x-java-applet",
		"text/x-shellscript",
	}
)

// Classify decides a file's type and limit from its first bytes (at least SniffLen
// of them when the file is that long). The file's name and any client-given content
// type play no part: both are trivially forged.
func Classify(head []byte) (Kind, error) {
	if len(head) == 0 {
		return Kind{}, ErrEmpty
	}
	m := mimetype.Detect(head)
	for p := m; p != nil; p = p.Parent() {
		for _, r := range refusedTypes {
			if p.Is(r) {
				return Kind{}, &RefusedError{ContentType: m.String()}
			}
		}
	}
	// Any text that starts with an interpreter line is a script, whatever the
	// interpreter, also behind a byte-order mark or blank lines (an editor adds the
	// one, a shell skips the other). AMR audio also starts with "#!", so only text
	// is checked.
	if bytes.HasPrefix(trimBlanks(head), []byte("#!")) && inTree(m, "text/plain") {
		return Kind{}, &RefusedError{ContentType: "text/x-script"}
	}
	k := Kind{Type: db.AttachmentDocument, ContentType: m.String(), Extension: m.Extension(), Limit: MaxDocument}
	switch {
	case isAny(m, imageTypes):
		k.Type, k.Limit = db.AttachmentImage, MaxImage
	case isAny(m, videoTypes):
		k.Type, k.Limit = db.AttachmentVideo, MaxVideo
	case isAny(m, audioTypes):
		k.Type, k.Limit = db.AttachmentAudio, MaxAudio
	}
	return k, nil
}

// trimBlanks returns head without a leading UTF-8 byte-order mark and blanks.
func trimBlanks(head []byte) []byte {
	for {
		t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n\f\v")
		if len(t) == len(head) {
			return t
		}
		head = t
	}
}

func isAny(m *mimetype.MIME, types []string) bool {
	for _, t := range types {
		if m.Is(t) {
			return true
		}
	}
	return false
}

func inTree(m *mimetype.MIME, t string) bool {
	for p := m; p != nil; p = p.Parent() {
		if p.Is(t) {
			return true
		}
	}
	return false
}

// InlineSafe reports whether a stored file may be shown in the browser rather than
// downloaded: only the media types WhatsApp sends, which browsers render without
// running anything.
func InlineSafe(attachmentType, contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch attachmentType {
	case db.AttachmentImage:
		return slices.Contains(imageTypes, mt)
	case db.AttachmentVideo:
		return slices.Contains(videoTypes, mt)
	case db.AttachmentAudio:
		return slices.Contains(audioTypes, mt)
	}
	return false
}
