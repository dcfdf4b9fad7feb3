package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// Twilio's callbacks can all beat its answer to the send call (sent, delivered,
// failed, read here). Held back until the send records the provider id, they must
// then be applied by rank, whatever order the database yields them in: a message
// delivered and read never ends FAILED. Before the fix they were applied in the
// order DELETE … RETURNING gave, which follows where rows sit in the table, not when
// they came: after a vacuum (autovacuum in production) later rows fill earlier
// slots, and 109 of 200 messages ended FAILED.
func TestDeliver_HeldBackStatusesAreAppliedByRank(t *testing.T) {
	bdb := testkit.DB(t)
	r := &resolvers.Resolver{DB: bdb}
	fake := newFakeTwilio(t)
	fake.beforeAccept = func(sid string) {
		for _, st := range []struct{ status, code string }{{"sent", ""}, {"delivered", ""}, {"failed", "63016"}, {"read", ""}} {
			if st.status == "failed" {
				// Vacuum frees the slots of the rows already taken (those of
				// earlier messages): the later callbacks are stored before the
				// earlier ones in the table.
				if _, err := bdb.ExecContext(context.Background(), "VACUUM early_statuses"); err != nil {
					t.Errorf("vacuum: %v", err)
				}
			}
			if err := r.ReceiveStatus(context.Background(), "", sid, st.status, st.code); err != nil {
				t.Errorf("early callback %s: %v", st.status, err)
			}
		}
	}
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	const n = 200
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = store(t, bdb, conv, outbound{content: fmt.Sprintf("message %d", i)}).ID
	}
	failed := 0
	for _, id := range ids {
		if m := waitHandled(t, bdb, id); m.Status != db.StatusRead {
			failed++
			t.Errorf("message %s ended %s (error %v), want READ", m.HexID(), m.Status, m.ErrorCode)
		}
	}
	if failed > 0 {
		t.Logf("%d of %d messages did not end READ", failed, n)
	}
	if left := countRows(t, bdb, "early_statuses"); left != 0 {
		t.Errorf("%d held-back statuses left", left)
	}
}
