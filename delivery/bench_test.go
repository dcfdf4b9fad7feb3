package delivery_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/testkit"
)

// BenchmarkDelivery measures the outbox against a fake Twilio over HTTP, with the
// default number of workers:
//
//   - drain: b.N messages are queued while no worker runs, then one pool sends them
//     all; msgs/s is the workers' throughput.
//   - latency: messages are committed one at a time, as the send API does, each
//     after the previous one reached the provider, while two pools (two
//     instances) listen; p50-ms/p99-ms is the time from the start of COMMIT to the
//     provider's request, with no backlog to queue behind.
func BenchmarkDelivery(b *testing.B) {
	b.Run("drain", benchDrain)
	b.Run("latency", benchLatency)
}

func benchDrain(b *testing.B) {
	ctx := context.Background()
	bdb := testkit.DB(b)
	fake := newFakeTwilio(b)
	co := testkit.Company(b, bdb)
	convs := benchConversations(b, bdb, co.ID)
	for start := 0; start < b.N; start += 1000 {
		n := min(1000, b.N-start)
		msgs := make([]*db.Message, n)
		dels := make([]*db.Delivery, n)
		for i := range msgs {
			body := strconv.Itoa(start + i)
			conv := convs[(start+i)%len(convs)]
			msgs[i] = &db.Message{ID: db.NewMessageID(), CompanyID: co.ID, ConversationID: conv.ID,
				Direction: db.DirectionSent, MessageType: db.TypeText, Content: &body,
				Datetime: time.Now().UTC(), Status: db.StatusPending}
			dels[i] = &db.Delivery{MessageID: msgs[i].ID, CompanyID: co.ID}
		}
		if _, err := bdb.NewInsert().Model(&msgs).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := bdb.NewInsert().Model(&dels).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	began := time.Now()
	cfg := fastConfig(bdb, fake.client())
	cfg.Workers = delivery.DefaultWorkers
	stop := startPool(b, cfg)
	waitDrained(b, bdb, fake, b.N)
	elapsed := time.Since(began)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func benchLatency(b *testing.B) {
	ctx := context.Background()
	bdb := testkit.DB(b)
	fake := newFakeTwilio(b)
	arrivals := make(chan time.Time, 1)
	fake.answer = func(int, url.Values) (int, string) {
		arrivals <- time.Now()
		return http.StatusCreated, ""
	}
	co := testkit.Company(b, bdb)
	convs := benchConversations(b, bdb, co.ID)
	for range 2 {
		cfg := fastConfig(bdb, fake.client())
		cfg.Workers = delivery.DefaultWorkers
		// Production's poll: a message found by polling instead of its NOTIFY
		// would show as a second-long latency.
		cfg.PollInterval = delivery.DefaultPollInterval
		startPool(b, cfg)
	}

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body := strconv.Itoa(i)
		m := &db.Message{ID: db.NewMessageID(), CompanyID: co.ID, ConversationID: convs[i%len(convs)].ID,
			Direction: db.DirectionSent, MessageType: db.TypeText, Content: &body,
			Datetime: time.Now().UTC(), Status: db.StatusPending}
		tx, err := bdb.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.QueueMessage(ctx, tx, m, nil, nil); err != nil {
			b.Fatal(err)
		}
		committing := time.Now()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-arrivals:
			lat = append(lat, at.Sub(committing))
		case <-time.After(time.Minute):
			b.Fatalf("message %d never reached the provider", i)
		}
	}
	b.StopTimer()
	waitDrained(b, bdb, fake, b.N)

	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

func benchConversations(b *testing.B, bdb *bun.DB, companyID int64) []*db.Conversation {
	convs := make([]*db.Conversation, 20)
	for i := range convs {
		convs[i] = testkit.Conversation(b, bdb, companyID, time.Now())
	}
	return convs
}

// waitDrained waits until the provider got n requests and the outbox is empty,
// then checks that nothing was sent twice.
func waitDrained(b *testing.B, bdb *bun.DB, fake *fakeTwilio, n int) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for len(fake.Requests()) < n || countRows(b, bdb, "deliveries") > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages sent", len(fake.Requests()), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if got := len(fake.Requests()); got != n {
		b.Fatalf("provider got %d requests for %d messages", got, n)
	}
}
