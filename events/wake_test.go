package events_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
)

// A waiter registered before or after the listener connects is woken by a NOTIFY of
// its channel, and only of its channel, until it stops.
func TestBus_WakeFollowsNotifyOfItsChannel(t *testing.T) {
	bdb := testkit.DB(t)
	bus := events.NewBus(bdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	early, stopEarly := bus.Wake("test_early")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := bus.Healthy(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bus did not connect")
		}
	}
	late, stopLate := bus.Wake("test_late")
	defer stopLate()
	notify := func(ch string) {
		if _, err := bdb.ExecContext(ctx, "SELECT pg_notify(?, '')", ch); err != nil {
			t.Fatal(err)
		}
	}
	// Connecting (and LISTENing to a new channel) wakes every waiter: what was
	// notified before is lost. Drain those, then each NOTIFY wakes its own.
	woken := func(c <-chan struct{}, ch string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			notify(ch)
			select {
			case <-c:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no wake-up", ch)
			}
		}
	}
	woken(early, "test_early")
	woken(late, "test_late")
	// woken may have sent a NOTIFY or two more than it needed: let them arrive and
	// drop them, until the channel stays quiet for 300 ms.
	drain := func(c <-chan struct{}) {
		for {
			select {
			case <-c:
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	drain(early)
	drain(late)
	notify("test_late")
	woken(late, "test_late")
	select {
	case <-early:
		t.Error("a NOTIFY of another channel woke the waiter")
	default:
	}
	stopEarly()
	notify("test_early")
	notify("test_late")
	woken(late, "test_late")
	select {
	case <-early:
		t.Error("a stopped waiter was woken")
	default:
	}
}
