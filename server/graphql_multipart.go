package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"github.com/connectme/connectme/media"
)

// graphQLMultipart is the upload transport of /graphql (the GraphQL multipart
// request spec: an "operations" part, a "map" part, then the files). It replaces
// gqlgen's transport.MultipartForm, which reads a file into memory whenever the
// request's Content-Length is under its MaxMemory (always, for a chunked request,
// whose length is -1) and bounds neither operations nor map. Here:
//   - operations and map are each bounded by maxGraphQLBody (over it: 413);
//   - the file is not read before the operation runs: the resolver reads it from
//     the request as it arrives and streams it into storage, as POST /media/save
//     does, however the body is framed;
//   - so a request carries one file, for one variable (uploadMedia takes one);
//     more is a 400, and a file part must follow map directly;
//   - the whole request is bounded by media.MaxUploadRequest (413).
type graphQLMultipart struct{}

var _ graphql.Transport = graphQLMultipart{}

// Supports claims POSTs of multipart/form-data that are not websocket upgrades.
func (graphQLMultipart) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" || r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// Do reads operations and map, runs the operation with the file streaming from the
// request, and writes the answer.
func (graphQLMultipart) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType := responseMediaType(r.Header.Get("Accept"))
	h := w.Header()
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	h.Add("Vary", "Accept")

	start := graphql.Now()
	if r.ContentLength > media.MaxUploadRequest {
		writeRequestError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", int64(media.MaxUploadRequest)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, media.MaxUploadRequest)
	params, status, err := readMultipart(r)
	if err != nil {
		writeRequestError(w, status, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, mediaType)
	// Consume the closing boundary, so the connection can serve the next request;
	// a body with more behind it is left to limitUploads, which drops it.
	_, _ = io.CopyN(io.Discard, r.Body, 4<<10)
}

// readMultipart reads the operations and map parts and opens the file part, if
// the map names one. Its errors are the client's: the status says which.
func readMultipart(r *http.Request) (*graphql.RawParams, int, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("the request must be multipart/form-data")
	}
	var req rawRequest
	if status, err := readJSONPart(mr, "operations", &req); err != nil {
		return nil, status, err
	}
	if req.Query == nil || *req.Query == "" {
		return nil, http.StatusBadRequest, errors.New("operations: query is required")
	}
	params := &graphql.RawParams{Query: *req.Query, Variables: req.Variables, Extensions: req.Extensions}
	if req.OperationName != nil {
		params.OperationName = *req.OperationName
	}
	var files map[string][]string
	if status, err := readJSONPart(mr, "map", &files); err != nil {
		return nil, status, err
	}
	if len(files) == 0 {
		return params, 0, nil
	}
	if len(files) > 1 {
		return nil, http.StatusBadRequest, errors.New("map: a request carries one file")
	}
	for key, paths := range files {
		if len(paths) != 1 {
			return nil, http.StatusBadRequest, fmt.Errorf("map: file %s must be given to exactly one variable", key)
		}
		part, err := mr.NextPart()
		if status, err := partError(err); err != nil {
			return nil, status, err
		}
		if part.FormName() != key {
			return nil, http.StatusBadRequest, fmt.Errorf("the part after map must be the file %s", key)
		}
		up := graphql.Upload{File: &streamedFile{r: part}, Filename: part.FileName(),
			Size: -1, ContentType: part.Header.Get("Content-Type")}
		if gerr := params.AddUpload(up, key, paths[0]); gerr != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("map: %s", gerr.Message)
		}
	}
	return params, 0, nil
}

// readJSONPart reads the next part, which must be the JSON form field name, within
// maxGraphQLBody, into v.
func readJSONPart(mr *multipart.Reader, name string, v any) (int, error) {
	part, err := mr.NextPart()
	if status, err := partError(err); err != nil {
		return status, err
	}
	if part.FormName() != name {
		return http.StatusBadRequest, fmt.Errorf("the %s part is missing or out of order (operations, map, then the file)", name)
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(io.LimitReader(part, maxGraphQLBody+1))
	if status, err := partError(err); err != nil {
		return status, err
	}
	if buf.Len() > maxGraphQLBody {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("the %s part is larger than %d bytes", name, maxGraphQLBody)
	}
	if err := decodeJSON(&buf, v); err != nil {
		return http.StatusBadRequest, fmt.Errorf("the %s part is not valid JSON of the expected shape", name)
	}
	return 0, nil
}

// partError turns an error reading the multipart body into the client's status.
func partError(err error) (int, error) {
	switch {
	case err == nil:
		return 0, nil
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, errors.New("the multipart body ended early")
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("request body is larger than %d bytes", int64(media.MaxUploadRequest))
	}
	return http.StatusBadRequest, errors.New("the multipart body could not be read")
}

// streamedFile is an uploaded file read from the request as it arrives. gqlgen's
// Upload wants an io.ReadSeeker; this one can only tell its position.
type streamedFile struct {
	r   io.Reader
	off int64
}

// Read implements io.Reader.
func (f *streamedFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.off += int64(n)
	return n, err
}

// Seek implements io.Seeker for Seek(0, io.SeekCurrent) only.
func (f *streamedFile) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekCurrent {
		return f.off, nil
	}
	return f.off, errors.New("a streamed upload cannot seek")
}
