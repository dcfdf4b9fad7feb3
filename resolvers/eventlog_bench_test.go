package resolvers_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

// BenchmarkEventLogWrites measures what the event log costs the two writing paths,
// with and without it, alternating in one run on one database: the inbound
// webhook's transaction (ReceiveMessage) and sending (SendMessage), each from four
// goroutines at once on one company (eight conversations), so that any
// serialisation of a company's writers would show. Run with:
// go test -run '^$' -bench EventLogWrites -benchtime=400x ./resolvers/
func BenchmarkEventLogWrites(b *testing.B) {
	app := testkit.NewApp(b)
	c := testkit.Company(b, app.DB)
	agent := testkit.Agent(b, app.DB, c.ID)
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: agent.ID, CompanyID: c.ID, Role: "OWNER"})
	var contacts []int64
	for range 8 {
		conv := testkit.Conversation(b, app.DB, c.ID, time.Now().Add(-time.Hour))
		contacts = append(contacts, conv.UserID)
	}
	var seq atomic.Int64
	paths := []struct {
		name string
		do   func(i int64) error
	}{
		{"ingest", func(i int64) error {
			_, _, err := app.Resolver.ReceiveMessage(ctx, resolvers.InboundMessage{MessageSID: fmt.Sprintf("SMbench%d", i),
				From: fmt.Sprintf("whatsapp:+9477%07d", i%200), To: *c.WhatsAppNumber, Body: "hello"})
			return err
		}},
		{"send", func(i int64) error {
			text := "hi"
			_, _, err := app.Resolver.SendMessage(ctx, resolvers.SendInput{To: contacts[i%int64(len(contacts))], Text: &text})
			return err
		}},
	}
	defer resolvers.SetEventLog(true)
	for round := 1; round <= 2; round++ {
		for _, p := range paths {
			for _, on := range []bool{false, true} {
				name := fmt.Sprintf("%s/log=%v/round%d", p.name, on, round)
				b.Run(name, func(b *testing.B) {
					resolvers.SetEventLog(on)
					b.SetParallelism(1) // GOMAXPROCS (2 here) × 2 goroutines
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := p.do(seq.Add(1)); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
				})
			}
		}
	}
}

// BenchmarkEventsReplay measures a subscriber replaying 10,000 events of the log
// (from the oldest cursor to the head). Run with:
// go test -run '^$' -bench EventsReplay -benchtime=3x ./resolvers/
func BenchmarkEventsReplay(b *testing.B) {
	const n = 10000
	app := testkit.NewApp(b)
	c := testkit.Company(b, app.DB)
	conv := testkit.Conversation(b, app.DB, c.ID, time.Now().Add(-time.Hour))
	if _, err := app.DB.NewRaw(`INSERT INTO events (company_id, type, conversation_id)
		SELECT ?, 'CONVERSATION_UPDATED', ? FROM generate_series(1, ?)`, c.ID, conv.ID, n).Exec(context.Background()); err != nil {
		b.Fatal(err)
	}
	for {
		evs, _, err := db.EventsAfter(context.Background(), app.DB, c.ID, db.Position{}, n)
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	from := resolvers.EventCursor(db.Position{})
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithCancel(auth.WithPrincipal(context.Background(), &auth.Principal{CompanyID: c.ID, Role: "AGENT"}))
		ch, err := app.Resolver.SubscribeEvents(ctx, &from)
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			if _, ok := <-ch; !ok {
				b.Fatal("the subscription ended")
			}
		}
		cancel()
		for range ch {
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
