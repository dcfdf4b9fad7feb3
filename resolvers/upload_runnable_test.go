package resolvers_test

import (
	"testing"

	"github.com/connectme/connectme/testkit"
)

// Hardening item 10 through GraphQL uploadMedia: a runnable name or a shebang behind
// a byte-order mark is BAD_USER_INPUT.
func TestUploadMedia_GraphQLRefusesRunnableNamesAndHiddenScripts(t *testing.T) {
	app := testkit.NewApp(t)
	a := newTenant(t, app)
	cases := map[string]struct {
		filename string
		content  []byte
	}{
		"batch file":             {"setup.bat", []byte("@echo off\r\n")},
		"html application":       {"a.hta.", []byte("<html></html>")},
		"java archive":           {"x.JAR", pdfHead},
		"shebang behind a BOM":   {"a.txt", []byte("\xef\xbb\xbf#!/bin/sh\necho\n")},
		"shebang behind a blank": {"a.txt", []byte(" \n#!/bin/sh\necho\n")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := uploadGraphQL(t, app, a.token, tc.filename, tc.content)
			if res.Code() != "BAD_USER_INPUT" {
				t.Fatalf("code %q, errors %+v", res.Code(), res.Errors)
			}
		})
	}
	if n := countFiles(t, app.Config.MediaDir); n != 0 {
		t.Errorf("%d files left behind", n)
	}
}
