package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// queued stores n outbound messages of one conversation and queues each for delivery.
func queued(t *testing.T, bdb *bun.DB, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	ids := make([]uuid.UUID, n)
	for i := range ids {
		m := outboundMessage(conv, "hello")
		if err := db.QueueMessage(ctx, bdb, m, nil, nil); err != nil {
			t.Fatal(err)
		}
		ids[i] = m.ID
	}
	return ids
}

// outboundMessage is a PENDING text message an agent sends in conv.
func outboundMessage(conv *db.Conversation, text string) *db.Message {
	return &db.Message{ID: db.NewMessageID(), CompanyID: conv.CompanyID, ConversationID: conv.ID,
		Direction: db.DirectionSent, MessageType: db.TypeText, Content: &text, Datetime: time.Now().UTC(),
		Status: db.StatusPending}
}

func TestClaimDeliveries_TakesOnlyDueUnleasedRows(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 3)
	if _, err := bdb.NewRaw("UPDATE deliveries SET run_at = now() + interval '1 hour' WHERE message_id = ?", ids[2]).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	got, err := db.ClaimDeliveries(ctx, bdb, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("claimed %d, want the 2 due ones", len(got))
	}
	for _, d := range got {
		if d.MessageID == ids[2] {
			t.Error("claimed a delivery that is not due")
		}
		if d.Attempts != 1 || d.LockedUntil == nil || d.CompanyID == 0 {
			t.Errorf("claimed row = %+v", d)
		}
	}
	again, err := db.ClaimDeliveries(ctx, bdb, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("claimed %d leased rows a second time", len(again))
	}
}

func TestClaimDeliveries_ConcurrentClaimersNeverShareARow(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 60)

	var mu sync.Mutex
	seen := map[uuid.UUID]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := db.ClaimDeliveries(ctx, bdb, 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.MessageID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(ids) {
		t.Errorf("claimed %d distinct rows, want %d", len(seen), len(ids))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func TestClaimDeliveries_ExpiredLeaseIsClaimedAgain(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 1)
	first, err := db.ClaimDeliveries(ctx, bdb, 1, 50*time.Millisecond)
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim: %v %v", first, err)
	}
	// The claimer "crashed": nobody finishes the row. It must come back after the lease.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := db.ClaimDeliveries(ctx, bdb, 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			if got[0].MessageID != ids[0] || got[0].Attempts != 2 {
				t.Errorf("reclaimed row = %+v", got[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a row whose lease expired was never claimed again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRetryDelivery_OnlyTheCurrentClaimerDecides(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 1)
	got, err := db.ClaimDeliveries(ctx, bdb, 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	if ok, err := db.RetryDelivery(ctx, bdb, ids[0], got[0].Attempts-1, time.Hour, "stale", false); err != nil || ok {
		t.Fatalf("a stale claimer rescheduled the row: ok=%v err=%v", ok, err)
	}
	if ok, err := db.RetryDelivery(ctx, bdb, ids[0], got[0].Attempts, time.Hour, "HTTP 500", false); err != nil || !ok {
		t.Fatalf("retry: ok=%v err=%v", ok, err)
	}
	var d db.Delivery
	if err := bdb.NewSelect().Model(&d).Where("message_id = ?", ids[0]).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if d.LockedUntil != nil || d.LastError == nil || *d.LastError != "HTTP 500" || time.Until(d.RunAt) < 30*time.Minute {
		t.Errorf("retried row = %+v", d)
	}
	if again, _ := db.ClaimDeliveries(ctx, bdb, 1, time.Minute); len(again) != 0 {
		t.Error("a row scheduled for later was claimed now")
	}
}

func TestReleaseDelivery_UncountsTheAttemptAndFreesTheRow(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	queued(t, bdb, 1)
	got, err := db.ClaimDeliveries(ctx, bdb, 1, time.Hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	if err := db.ReleaseDelivery(ctx, bdb, got[0].MessageID, got[0].Attempts, got[0].CheckProvider); err != nil {
		t.Fatal(err)
	}
	again, err := db.ClaimDeliveries(ctx, bdb, 1, time.Hour)
	if err != nil || len(again) != 1 || again[0].Attempts != 1 || again[0].CheckProvider {
		t.Fatalf("claim after release: %+v %v (an attempt never tried leaves nothing to check)", again, err)
	}
}

// TestClaimDeliveries_AnAttemptWithoutOutcomeIsCheckedAtTheProvider: a claim whose
// worker died, or whose send ended ambiguously, makes the next claim ask the
// provider first; a clean failure does not.
func TestClaimDeliveries_AnAttemptWithoutOutcomeIsCheckedAtTheProvider(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 1)
	claim := func() *db.Delivery {
		t.Helper()
		got, err := db.ClaimDeliveries(ctx, bdb, 1, time.Hour)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		return got[0]
	}
	first := claim()
	if first.CheckProvider || first.FirstAttemptAt == nil {
		t.Fatalf("first claim = %+v; want no check and the first attempt's time", first)
	}
	// A clean temporary failure (the request never left): nothing to check.
	if ok, err := db.RetryDelivery(ctx, bdb, ids[0], first.Attempts, 0, "connection refused", false); err != nil || !ok {
		t.Fatal(ok, err)
	}
	second := claim()
	if second.CheckProvider || !second.FirstAttemptAt.Equal(*first.FirstAttemptAt) {
		t.Fatalf("after a clean failure: %+v", second)
	}
	// An ambiguous failure: the next claim checks.
	if ok, err := db.RetryDelivery(ctx, bdb, ids[0], second.Attempts, 0, "timeout after the request", true); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if third := claim(); !third.CheckProvider {
		t.Fatalf("after an ambiguous failure: %+v", third)
	}
	// The worker of the third claim "dies": its lease ends, and the claim after it checks.
	if _, err := bdb.NewRaw("UPDATE deliveries SET locked_until = now() - interval '1 second'").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if fourth := claim(); !fourth.CheckProvider || fourth.Attempts != 4 {
		t.Fatalf("after a claim with no outcome: %+v", fourth)
	}
}

func TestQueueMessage_WakesListenersOnCommitOnly(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	ln := pgdriver.NewListener(bdb)
	defer ln.Close()
	if err := ln.Listen(ctx, db.DeliveriesChannel); err != nil {
		t.Fatal(err)
	}

	// Rolled back: neither a row nor a wake-up.
	_ = bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.QueueMessage(ctx, tx, outboundMessage(conv, "rolled back"), nil, nil); err != nil {
			t.Fatal(err)
		}
		return context.Canceled
	})
	if _, _, err := ln.ReceiveTimeout(ctx, 300*time.Millisecond); err == nil {
		t.Fatal("a rolled back enqueue sent a notification")
	}

	if err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return db.QueueMessage(ctx, tx, outboundMessage(conv, "committed"), nil, nil)
	}); err != nil {
		t.Fatal(err)
	}
	ch, _, err := ln.ReceiveTimeout(ctx, 10*time.Second)
	if err != nil || ch != db.DeliveriesChannel {
		t.Fatalf("notification: %q %v", ch, err)
	}
	n, err := bdb.NewSelect().Model((*db.Delivery)(nil)).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("deliveries = %d (%v), want 1", n, err)
	}
}

func TestOutboundByIDs_LoadsWhatTheSendNeedsForABatch(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	sid := "HX0123"
	tpl := &db.Template{CompanyID: &co.ID, Name: "greet", Language: "en", Content: "Hi {{1}}, {{2}}", ContentSID: &sid}
	if _, err := bdb.NewInsert().Model(tpl).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	tm := outboundMessage(conv, "Hi Ann, welcome")
	tm.TemplateID, tm.MessageType, tm.TemplateParams = &tpl.ID, db.TypeTemplate, []string{"Ann", "welcome"}
	if err := db.QueueMessage(ctx, bdb, tm, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Uploaded in one order, linked in the other: the link's order wins.
	var attIDs []int64
	for _, name := range []string{"second.pdf", "first.jpg"} {
		a := &db.Attachment{CompanyID: co.ID, Type: db.AttachmentDocument, Filename: name, State: "STORED"}
		if err := db.InsertAttachment(ctx, bdb, a); err != nil {
			t.Fatal(err)
		}
		attIDs = append([]int64{a.ID}, attIDs...)
	}
	mm := outboundMessage(conv, "see attached")
	mm.MessageType = db.TypeMedia
	if err := db.QueueMessage(ctx, bdb, mm, attIDs, nil); err != nil {
		t.Fatal(err)
	}
	unqueued := testkit.Message(t, bdb, conv, db.DirectionSent, "not queued", time.Now())

	got, err := db.OutboundByIDs(ctx, bdb, []uuid.UUID{tm.ID, mm.ID, unqueued.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("loaded %d, want the 2 queued messages", len(got))
	}
	o := got[tm.ID]
	if o.ContentSID == nil || *o.ContentSID != sid || len(o.TemplateParams) != 2 || o.TemplateParams[0] != "Ann" ||
		o.ContactPhone == nil || *o.ContactPhone != *conv.User.Phone ||
		o.CompanyNumber == nil || *o.CompanyNumber != *co.WhatsAppNumber || o.ConversationID != conv.ID {
		t.Errorf("template message = %+v", o)
	}
	o = got[mm.ID]
	if len(o.Attachments) != 2 || o.Attachments[0].Filename != "first.jpg" || o.Attachments[1].Filename != "second.pdf" {
		t.Errorf("attachments = %+v", o.Attachments)
	}
	if o.ContentSID != nil || o.Content == nil || *o.Content != "see attached" {
		t.Errorf("media message = %+v", o)
	}
}

func TestAttachProviderSIDTx_TakesTheMessageOutOfTheOutbox(t *testing.T) {
	bdb := testkit.DB(t)
	ids := queued(t, bdb, 3)
	var companyID int64
	if err := bdb.NewRaw("SELECT company_id FROM messages WHERE id = ?", ids[0]).Scan(t.Context(), &companyID); err != nil {
		t.Fatal(err)
	}
	// Answered QUEUED (the usual case), then a failure answer; the third stays queued.
	if ch := attach(t, bdb, companyID, ids[0], "SMout0", db.StatusQueued, nil); ch == nil {
		t.Fatal("queued: no change")
	}
	attach(t, bdb, companyID, ids[1], "SMout1", db.StatusFailed, nil)
	var left []uuid.UUID
	if err := bdb.NewRaw("SELECT message_id FROM deliveries").Scan(t.Context(), &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != ids[2] {
		t.Errorf("outbox = %v, want only %v", left, ids[2])
	}
}

// A batch of accepted sends records each message's provider id and status, removes
// its delivery row, applies the statuses that arrived before the send's answer, and
// reports the changes; the same as AttachProviderSID one by one.
func TestRecordSentBatch_AsOneByOne(t *testing.T) {
	bdb := testkit.DB(t)
	ctx := context.Background()
	ids := queued(t, bdb, 3)
	var companyID int64
	if err := bdb.NewRaw("SELECT company_id FROM messages WHERE id = ?", ids[0]).Scan(ctx, &companyID); err != nil {
		t.Fatal(err)
	}
	// The third message's DELIVERED callback beat the send's answer.
	callback(t, bdb, "SMbatch3", db.StatusDelivered, nil, time.Now())
	outs := []db.SentOutcome{
		{CompanyID: companyID, MessageID: ids[0], SID: "SMbatch1", Status: db.StatusQueued},
		{CompanyID: companyID, MessageID: ids[1], SID: "SMbatch2", Status: db.StatusSent},
		{CompanyID: companyID, MessageID: ids[2], SID: "SMbatch3", Status: db.StatusQueued},
	}
	var changes []*db.StatusChange
	err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
		changes, err = db.RecordSentBatch(ctx, tx, outs, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]string{ids[0]: db.StatusQueued, ids[1]: db.StatusSent, ids[2]: db.StatusDelivered}
	if len(changes) != 3 {
		t.Fatalf("changes = %d, want 3", len(changes))
	}
	for i, ch := range changes {
		if ch.ID != ids[i] || ch.Status != want[ch.ID] || ch.CompanyID != companyID {
			t.Errorf("change %d = %+v, want %s %s", i, ch, ids[i], want[ids[i]])
		}
	}
	for i, id := range ids {
		var row struct {
			SID    string `bun:"provider_sid"`
			Status string `bun:"status"`
		}
		if err := bdb.NewRaw("SELECT provider_sid, status FROM messages WHERE id = ?", id).Scan(ctx, &row); err != nil {
			t.Fatal(err)
		}
		if row.SID != outs[i].SID || row.Status != want[id] {
			t.Errorf("message %d: %+v, want %s %s", i, row, outs[i].SID, want[id])
		}
	}
	var left, early int
	_ = bdb.NewRaw("SELECT count(*) FROM deliveries").Scan(ctx, &left)
	_ = bdb.NewRaw("SELECT count(*) FROM early_statuses").Scan(ctx, &early)
	if left != 0 || early != 0 {
		t.Errorf("deliveries left %d, early statuses left %d; want none", left, early)
	}
	// A failure is not an accepted status: the batch refuses it (it is recorded one
	// by one, with its error code).
	err = bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := db.RecordSentBatch(ctx, tx, []db.SentOutcome{{CompanyID: companyID, MessageID: ids[0], SID: "SMx", Status: db.StatusFailed}}, time.Now())
		return err
	})
	if err == nil {
		t.Error("a FAILED outcome was taken by the batch")
	}
}
