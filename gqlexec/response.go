package gqlexec

import (
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// maxRemembered bounds how many operations' answer sizes are kept: past it the
// memory starts again (a client sending ever-new documents cannot grow it).
const maxRemembered = 1024

type sizeKey struct{ query, operation string }

var responseSizes = struct {
	sync.RWMutex
	m map[sizeKey]int
}{m: map[sizeKey]int{}}

// ResponseSize is how many bytes to give the buffer an operation's answer is
// written into: a little more than its last answer, or 0 (let it grow) for an
// operation not seen yet. gqlgen's executor starts every answer in an empty
// bytes.Buffer, which doubles from 64 bytes: a page of 20 messages went through
// eight buffers, 15 KB of garbage for a 4 KB answer (cmd/gqlgen rewrites the
// executor to call this and ResponseWritten).
func ResponseSize(oc *graphql.OperationContext) int {
	responseSizes.RLock()
	n := responseSizes.m[sizeKey{oc.RawQuery, oc.OperationName}]
	responseSizes.RUnlock()
	if n == 0 {
		return 0
	}
	return n + n/8 + 64
}

// ResponseWritten remembers the size of an operation's answer.
func ResponseWritten(oc *graphql.OperationContext, n int) {
	k := sizeKey{oc.RawQuery, oc.OperationName}
	responseSizes.RLock()
	old, ok := responseSizes.m[k]
	responseSizes.RUnlock()
	if ok && old == n {
		return
	}
	responseSizes.Lock()
	if len(responseSizes.m) >= maxRemembered {
		clear(responseSizes.m)
	}
	responseSizes.m[k] = n
	responseSizes.Unlock()
}
