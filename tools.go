//go:build tools

// Package tools pins the code generators the Makefile runs.
package tools

import (
	_ "github.com/99designs/gqlgen"
)
