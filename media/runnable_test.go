package media_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"testing"

	"github.com/connectme/connectme/media"
)

// jarFile returns a minimal Java archive: a zip whose first entry is the manifest.
func jarFile(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"META-INF/MANIFEST.MF", "Main.class"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("Manifest-Version: 1.0\nMain-Class: Main\n"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A byte-order mark or blank lines before "#!" do not hide a script, and programs a
// JVM or Windows runs by content are refused like ELF and PE files.
func TestClassify_ScriptsBehindABOMOrBlanksAndJVMProgramsAreRefused(t *testing.T) {
	cases := map[string][]byte{
		"bom then shebang":         []byte("\xef\xbb\xbf#!/bin/sh\nrm -rf /\n"),
		"spaces then shebang":      []byte("   #!/bin/sh\nrm -rf /\n"),
		"blank lines then shebang": []byte("\r\n\n\t#!/usr/bin/env python3\nprint('hi')\n"),
		"bom and blanks":           []byte("\xef\xbb\xbf \n#!/usr/bin/perl\nprint 1;\n"),
		"java archive":             jarFile(t),
		"java class":               append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x34"), make([]byte, 64)...),
		"windows shortcut":         append([]byte("L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"), make([]byte, 64)...),
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
	// Text that merely mentions "#!" later on is still a document.
	for _, head := range [][]byte{[]byte("\xef\xbb\xbfnotes: use #!/bin/sh\n"), []byte("  hello\n")} {
		if _, err := media.Classify(head); err != nil {
			t.Errorf("Classify(%q) = %v, want a document", head, err)
		}
	}
}

func TestRunnableName_ExtensionsWindowsOrAJVMRun(t *testing.T) {
	cases := []struct {
		name string
		want bool
	}{
		{"setup.exe", true},
		{"run.bat", true},
		{"run.CMD", true},
		{"prog.com", true},
		{"page.hta", true},
		{"app.jar", true},
		{"x.js", true},
		{"x.jse", true},
		{"x.msi", true},
		{"x.ps1", true},
		{"x.scr", true},
		{"x.vbs", true},
		{"x.VBE", true},
		{"x.wsf", true},
		{"x.wsh", true},
		{"x.lnk", true},
		{"x.pif", true},
		{"x.cpl", true},
		{"x.reg", true},
		{"x.msp", true},
		{"x.application", true},
		{"trailing dots.exe...", true},
		{"trailing spaces.bat  ", true},
		{"dots and spaces.hta. . ", true},
		{"stream.exe::$DATA", true},
		{"hidden\u200b.exe", true},
		{`C:\Users\bob\evil.Jar`, true},
		{"report.pdf", false},
		{"photo.jpg", false},
		{"archive.zip", false},
		{"exe", false},
		{"notes.exe.txt", false},
		{"", false},
		{"json.json", false},
	}
	for _, tc := range cases {
		if got := media.RunnableName(tc.name); got != tc.want {
			t.Errorf("RunnableName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
