package resolvers

import (
	"sync"
	"testing"

	"github.com/vikstrous/dataloadgen"

	"github.com/connectme/connectme/db"
)

// A loader is made once, on first use, however many fields ask for it at once, and
// asking again allocates nothing.
func TestLoaders_MadeOnceOnFirstUse(t *testing.T) {
	l := (&Resolver{}).NewLoaders(1)
	if l.users.loader != nil || l.attachments.loader != nil {
		t.Fatal("a loader was made before its first use")
	}
	got := make([]*dataloadgen.Loader[int64, *db.User], 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = l.Users() })
	}
	wg.Wait()
	for _, u := range got {
		if u == nil || u != got[0] {
			t.Fatalf("concurrent first uses got different loaders: %p %p", u, got[0])
		}
	}
	if l.conversations.loader != nil {
		t.Fatal("using one loader made another")
	}
	if n := testing.AllocsPerRun(100, func() { _ = l.Users() }); n != 0 {
		t.Fatalf("a made loader costs %v allocations to reach", n)
	}
}
