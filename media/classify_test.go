package media_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/media"
)

// ftyp returns the start of an ISO media file (MP4, 3GP, M4A) with the given brand.
func ftyp(brand string) []byte {
	b := append([]byte{0, 0, 0, 0x18}, "ftyp"+brand+"\x00\x00\x02\x00"+brand+"isom"...)
	return append(b, make([]byte, 64)...)
}

// ogg returns the first page of an Ogg stream whose first packet starts with codec.
func ogg(codec string) []byte {
	b := append([]byte("OggS"), make([]byte, 24)...)
	return append(append(b, codec...), make([]byte, 64)...)
}

// docx returns a minimal Word document as Office writes it: [Content_Types].xml
// first, then the word/ entries.
func docx(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("<xml/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestClassify_TypeAndLimitComeFromContent(t *testing.T) {
	cases := []struct {
		name, wantType, wantCT string
		head                   []byte
		wantLimit              int64
	}{
		{"jpeg", db.AttachmentImage, "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), 5_000_000},
		{"png", db.AttachmentImage, "image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 5_000_000},
		{"mp4", db.AttachmentVideo, "video/mp4", ftyp("isom"), 16_000_000},
		{"3gpp", db.AttachmentVideo, "video/3gpp", ftyp("3gp4"), 16_000_000},
		{"aac", db.AttachmentAudio, "audio/aac", []byte("\xff\xf1\x50\x80\x02\x1f\xfc"), 16_000_000},
		{"mp4 audio", db.AttachmentAudio, "audio/x-m4a", ftyp("M4A "), 16_000_000},
		{"mpeg audio", db.AttachmentAudio, "audio/mpeg", []byte("ID3\x03\x00\x00\x00\x00\x02\x01"), 16_000_000},
		{"amr", db.AttachmentAudio, "audio/amr", []byte("#!AMR\n\x3c\x00\x00\x00"), 16_000_000},
		{"ogg opus voice note", db.AttachmentAudio, "audio/ogg", ogg("OpusHead"), 16_000_000},
		{"pdf", db.AttachmentDocument, "application/pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), 100_000_000},
		{"docx", db.AttachmentDocument, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx(t), 100_000_000},
		{"plain text", db.AttachmentDocument, "text/plain; charset=utf-8", []byte("hello, world\n"), 100_000_000},
		{"gif is a document", db.AttachmentDocument, "image/gif", []byte("GIF89a\x01\x00\x01\x00"), 100_000_000},
		{"svg is a document", db.AttachmentDocument, "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), 100_000_000},
		{"unknown bytes", db.AttachmentDocument, "application/octet-stream", []byte{0x00, 0x01, 0x02, 0x03, 0xfe}, 100_000_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := media.Classify(tc.head)
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			if k.Type != tc.wantType || k.ContentType != tc.wantCT || k.Limit != tc.wantLimit {
				t.Errorf("got %s %q limit %d; want %s %q limit %d", k.Type, k.ContentType, k.Limit, tc.wantType, tc.wantCT, tc.wantLimit)
			}
		})
	}
}

func TestClassify_ExecutablesAndScriptsAreRefused(t *testing.T) {
	cases := map[string][]byte{
		"elf executable": append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 64)...),
		"elf library":    append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00"), make([]byte, 64)...),
		"windows pe":     append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...),
		"mach-o 64":      append([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"), make([]byte, 64)...),
		"mach-o fat":     append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x02"), make([]byte, 64)...),
		"shell script":   []byte("#!/bin/sh\nrm -rf /\n"),
		"bash via env":   []byte("#!/usr/bin/env bash\necho hi\n"),
		"python script":  []byte("#!/usr/bin/env python3\nprint('hi')\n"),
	}
	for name, head := range cases {
		t.Run(name, func(t *testing.T) {
			k, err := media.Classify(head)
			var refused *media.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("Classify = %+v, %v; want a RefusedError", k, err)
			}
		})
	}
}

func TestClassify_EmptyIsAnError(t *testing.T) {
	if _, err := media.Classify(nil); !errors.Is(err, media.ErrEmpty) {
		t.Fatalf("err = %v, want ErrEmpty", err)
	}
}

func TestInlineSafe_OnlyWhatsAppMediaTypes(t *testing.T) {
	cases := []struct {
		typ, ct string
		want    bool
	}{
		{db.AttachmentImage, "image/png", true},
		{db.AttachmentAudio, "audio/ogg", true},
		{db.AttachmentVideo, "video/mp4", true},
		{db.AttachmentDocument, "application/pdf", false},
		{db.AttachmentDocument, "text/html; charset=utf-8", false},
		{db.AttachmentImage, "image/svg+xml", false},
		{db.AttachmentImage, "text/html", false},
		{db.AttachmentImage, "not a type", false},
	}
	for _, tc := range cases {
		if got := media.InlineSafe(tc.typ, tc.ct); got != tc.want {
			t.Errorf("InlineSafe(%s, %q) = %v, want %v", tc.typ, tc.ct, got, tc.want)
		}
	}
}
