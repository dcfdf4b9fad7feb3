package events

import (
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
)

func TestDecode_RoundTripAndGarbage(t *testing.T) {
	ev := Event{Kind: MessageStatusChanged, CompanyID: 7, ConversationID: 9, MessageID: "abc", Status: "READ"}
	b := []byte(`{"k":"message_status_changed","c":7,"v":9,"m":"abc","s":"READ"}`)
	got, err := Decode(string(b))
	if err != nil || got != ev {
		t.Errorf("Decode = %+v, %v", got, err)
	}
	if _, err := Decode("not json"); err == nil {
		t.Error("garbage decoded")
	}
}

func TestBus_AttachDeliversInOrderOnOneGoroutinePerCompany(t *testing.T) {
	b := NewBus(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	got := make(chan int64, 10)
	closed := make(chan struct{})
	in := b.Attach(1, func(ev *Event) bool {
		got <- ev.ConversationID
		return true
	}, func() { close(closed) })
	var full atomic.Bool
	slow := b.Attach(1, func(*Event) bool { return !full.Load() }, nil)
	if n := b.Subscribers(); n != 2 {
		t.Fatalf("subscribers = %d, want 2", n)
	}
	for i := int64(1); i <= 3; i++ {
		b.dispatch(&Event{Kind: MessageAdded, CompanyID: 1, ConversationID: i})
	}
	b.dispatch(&Event{Kind: MessageAdded, CompanyID: 2, ConversationID: 99})
	for want := int64(1); want <= 3; want++ {
		if v := <-got; v != want {
			t.Fatalf("got event %d, want %d (in order, only company 1's)", v, want)
		}
	}
	// A subscriber that cannot take an event is dropped; the others go on.
	b.mu.RLock()
	f := b.feeds[1]
	b.mu.RUnlock()
	full.Store(true)
	b.dispatch(&Event{Kind: MessageAdded, CompanyID: 1, ConversationID: 4})
	<-slow.Done()
	if v := <-got; v != 4 {
		t.Fatalf("got %d after the drop", v)
	}
	in.Close()
	<-closed
	if n := b.Subscribers(); n != 0 {
		t.Errorf("subscribers = %d after closing all", n)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(b.feeds) != 0 {
		t.Error("the company's feed outlived its last subscriber")
	}
	select {
	case <-f.stop:
	default:
		t.Error("the company's goroutine was not stopped")
	}
}

func TestBus_AStuckCompanyFeedDropsItsSubscribers(t *testing.T) {
	b := NewBus(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hold := make(chan struct{})
	stuck := b.Attach(1, func(*Event) bool {
		<-hold
		return true
	}, nil)
	other := b.Attach(2, func(*Event) bool { return true }, nil)
	// The first event holds the company's goroutine; the queue fills behind it.
	for i := 0; i < SubscriptionBuffer+2; i++ {
		b.dispatch(&Event{Kind: MessageAdded, CompanyID: 1, ConversationID: int64(i)})
	}
	close(hold)
	<-stuck.Done()
	select {
	case <-other.Done():
		t.Error("another company's subscriber was dropped")
	default:
	}
	other.Close()
}
