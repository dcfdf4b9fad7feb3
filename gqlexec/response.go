package gqlexec

import (
	"hash/maphash"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// maxRemembered bounds how many operations' answer sizes are kept: past it the
// memory starts again (a client sending ever-new documents cannot grow it).
const maxRemembered = 1024

// maxHint bounds the buffer made up front; a larger answer grows it as before.
const maxHint = 1 << 20

// An operation is remembered by a hash of its document and name, not the
// document itself: 1,024 documents of up to 256 KB each would be a lot to keep
// for a hint. Two operations with the same hash share a hint (a buffer of the
// wrong size, nothing worse).
var sizeSeed = maphash.MakeSeed()

func sizeKey(oc *graphql.OperationContext) uint64 {
	var h maphash.Hash
	h.SetSeed(sizeSeed)
	_, _ = h.WriteString(oc.RawQuery)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(oc.OperationName)
	return h.Sum64()
}

var responseSizes = struct {
	sync.RWMutex
	m map[uint64]int
}{m: map[uint64]int{}}

// ResponseSize is how many bytes to give the buffer an operation's answer is
// written into: a little more than its last answer, or 0 (let it grow) for an
// operation not seen yet. gqlgen's executor starts every answer in an empty
// bytes.Buffer, which doubles from 64 bytes: a page of 20 messages went through
// eight buffers, 15 KB of garbage for a 4 KB answer (cmd/gqlgen rewrites the
// executor to call this and ResponseWritten).
func ResponseSize(oc *graphql.OperationContext) int {
	responseSizes.RLock()
	n := responseSizes.m[sizeKey(oc)]
	responseSizes.RUnlock()
	if n == 0 {
		return 0
	}
	return min(n+n/8+64, maxHint)
}

// ResponseWritten remembers the size of an operation's answer.
func ResponseWritten(oc *graphql.OperationContext, n int) {
	k := sizeKey(oc)
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
