package gqlexec

import (
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

func TestResponseSize_FromTheOperationsLastAnswer(t *testing.T) {
	page := &graphql.OperationContext{RawQuery: "query P { a }", OperationName: "P"}
	other := &graphql.OperationContext{RawQuery: "query P { a }", OperationName: "Q"}
	if n := ResponseSize(page); n != 0 {
		t.Fatalf("an operation never answered gets %d bytes, want 0 (let the buffer grow)", n)
	}
	ResponseWritten(page, 4096)
	if n := ResponseSize(page); n != 4096+512+64 {
		t.Fatalf("after a 4096-byte answer the next gets %d bytes", n)
	}
	if n := ResponseSize(other); n != 0 {
		t.Fatalf("another operation of the same document got %d bytes", n)
	}
	// A huge answer does not make every next buffer huge.
	ResponseWritten(page, 50<<20)
	if n := ResponseSize(page); n != maxHint {
		t.Fatalf("after a 50 MB answer the next gets %d bytes, want the bound %d", n, maxHint)
	}
	// The memory is bounded: past maxRemembered operations it starts again.
	for i := range maxRemembered + 1 {
		ResponseWritten(&graphql.OperationContext{RawQuery: fmt.Sprint("query { f", i, " }")}, 100)
	}
	responseSizes.RLock()
	n := len(responseSizes.m)
	responseSizes.RUnlock()
	if n > maxRemembered {
		t.Fatalf("%d operations remembered, bound %d", n, maxRemembered)
	}
}
