package main

import (
	"context"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// The CPU split counts the backends of the benchmark's database and PostgreSQL's
// background processes, not other databases' sessions.
func TestWorksFor_TellsBackendsByDatabase(t *testing.T) {
	dsn := testkit.NewDatabase(t)
	bdb, err := db.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var pid int
	if err := bdb.NewRaw("SELECT pg_backend_pid()").Scan(context.Background(), &pid); err != nil {
		t.Fatal(err)
	}
	if !worksFor(pid, dbName(dsn)) {
		t.Errorf("backend %d of %s not counted for it", pid, dbName(dsn))
	}
	if worksFor(pid, "some_other_database") {
		t.Errorf("backend %d of %s counted for another database", pid, dbName(dsn))
	}
	snap := takeCPU(0, dbName(dsn))
	if _, ok := snap.postgres[pid]; !ok {
		t.Errorf("takeCPU left out backend %d: %v", pid, snap.postgres)
	}
}
