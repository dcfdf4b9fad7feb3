package delivery_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/logging"
	"github.com/connectme/connectme/twilio"
)

const (
	accountSID  = "ACtest0000000000000000000000000000"
	authToken   = "test-auth-token"
	callbackURL = "https://connectme.example/message/status"
)

// request is one call the fake provider received.
type request struct {
	Form       url.Values
	User, Pass string
	At         time.Time
}

// fakeTwilio is a stand-in for Twilio's Messages API that speaks its wire format:
// form-encoded POSTs with basic auth in, Twilio's JSON answers out.
type fakeTwilio struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []request
	// answer decides the reply to the n-th request (from 0); nil accepts every
	// message with a fresh sid and status "queued".
	answer func(n int, form url.Values) (status int, body string)
	// beforeAccept runs before a message is accepted, with the sid it gets.
	beforeAccept func(sid string)
	// accepted are the messages answered 201, oldest first, for the Messages list.
	accepted []map[string]any
}

func newFakeTwilio(t testing.TB) *fakeTwilio {
	f := &fakeTwilio{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		f.list(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, request{Form: r.PostForm, User: user, Pass: pass, At: time.Now()})
	answer, before := f.answer, f.beforeAccept
	f.mu.Unlock()

	status, body := http.StatusCreated, ""
	if answer != nil {
		status, body = answer(n, r.PostForm)
	}
	if status == http.StatusCreated && body == "" {
		sid := newSID()
		if before != nil {
			before(sid)
		}
		body = fmt.Sprintf(`{"sid":%q,"status":"queued","to":%q,"from":%q,"error_code":null,"error_message":null}`,
			sid, r.PostForm.Get("To"), r.PostForm.Get("From"))
	}
	if status == http.StatusCreated {
		var answer struct {
			SID string `json:"sid"`
		}
		if json.Unmarshal([]byte(body), &answer) == nil && answer.SID != "" {
			f.mu.Lock()
			f.accepted = append(f.accepted, map[string]any{"sid": answer.SID, "from": r.PostForm.Get("From"),
				"to": r.PostForm.Get("To"), "body": r.PostForm.Get("Body"), "status": "queued",
				"num_media": fmt.Sprint(len(r.PostForm["MediaUrl"])), "date_created": time.Now().UTC().Format(time.RFC1123Z)})
			f.mu.Unlock()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// list answers Twilio's Messages list: the accepted messages from From to To,
// newest first, in one page.
func (f *fakeTwilio) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	out := []map[string]any{}
	for i := len(f.accepted) - 1; i >= 0; i-- {
		if m := f.accepted[i]; m["from"] == q.Get("From") && m["to"] == q.Get("To") {
			out = append(out, m)
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": out, "next_page_uri": nil})
}

func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// Requests returns a copy of what the fake received so far.
func (f *fakeTwilio) Requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// client is a real Twilio client pointed at the fake.
func (f *fakeTwilio) client() *twilio.Client {
	return twilio.NewClient(accountSID, authToken, f.srv.URL)
}

func testLog() *slog.Logger {
	if os.Getenv("CONNECTME_TEST_LOG") != "" {
		return logging.New(os.Stderr, slog.LevelDebug)
	}
	return logging.New(io.Discard, slog.LevelError)
}

// fastConfig is a pool configuration with test-sized waits.
func fastConfig(bdb *bun.DB, p delivery.Provider) delivery.Config {
	return delivery.Config{
		DB: bdb, Provider: p, Log: testLog(), Workers: 4,
		StatusCallbackURL: callbackURL,
		PollInterval:      50 * time.Millisecond,
		BackoffBase:       5 * time.Millisecond,
		BackoffMax:        40 * time.Millisecond,
	}
}

// startPool runs a pool until the returned stop is called (or the test ends);
// stop returns once Run has returned. Without cfg.Bus, the pool is woken by an
// events bus of its own, as in an instance.
func startPool(t testing.TB, cfg delivery.Config) (stop func()) {
	t.Helper()
	if cfg.Bus == nil {
		cfg.Bus = startBus(t, cfg.DB)
	}
	p, err := delivery.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// startBus runs an events bus on bdb until the test ends, and waits until it
// listens.
func startBus(t testing.TB, bdb *bun.DB) *events.Bus {
	t.Helper()
	bus := events.NewBus(bdb, testLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the bus to listen", func() bool { ok, _ := bus.Healthy(); return ok })
	return bus
}

// outbound describes a message an agent sends.
type outbound struct {
	content    string
	templateID *int64
	params     []string
	attach     []*db.Attachment
}

// store does what the send business function does: in one transaction it stores
// the message PENDING with its attachments and queues it for delivery.
func store(t testing.TB, bdb *bun.DB, conv *db.Conversation, o outbound) *db.Message {
	t.Helper()
	ctx := context.Background()
	m := &db.Message{ID: db.NewMessageID(), CompanyID: conv.CompanyID, ConversationID: conv.ID,
		Direction: db.DirectionSent, MessageType: db.TypeText, Content: &o.content, Datetime: time.Now().UTC(),
		Status: db.StatusPending, TemplateID: o.templateID, TemplateParams: o.params}
	if o.templateID != nil {
		m.MessageType = db.TypeTemplate
	} else if len(o.attach) > 0 {
		m.MessageType = db.TypeMedia
	}
	err := bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Uploaded first, then linked to the message in order, as the send does.
		ids := make([]int64, len(o.attach))
		for i, a := range o.attach {
			a.CompanyID = conv.CompanyID
			if err := db.InsertAttachment(ctx, tx, a); err != nil {
				return err
			}
			ids[i] = a.ID
		}
		return db.QueueMessage(ctx, tx, m, ids, nil)
	})
	if err != nil {
		t.Fatalf("store message: %v", err)
	}
	return m
}

// reload reads a message back.
func reload(t testing.TB, bdb *bun.DB, id uuid.UUID) *db.Message {
	t.Helper()
	m := new(db.Message)
	if err := bdb.NewSelect().Model(m).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatalf("reload message: %v", err)
	}
	return m
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitHandled waits until the message left PENDING, which happens in the same
// transaction that removes its delivery row.
func waitHandled(t testing.TB, bdb *bun.DB, id uuid.UUID) *db.Message {
	t.Helper()
	var m *db.Message
	waitFor(t, "message "+db.HexID(id)+" to leave PENDING", func() bool {
		m = reload(t, bdb, id)
		return m.Status != db.StatusPending
	})
	return m
}

func countRows(t testing.TB, bdb *bun.DB, table string) int {
	t.Helper()
	var n int
	if err := bdb.NewRaw("SELECT count(*) FROM ?", bun.Ident(table)).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// eventLog collects the events published on the database.
type eventLog struct {
	mu  sync.Mutex
	evs []events.Event
}

func listenEvents(t testing.TB, bdb *bun.DB) *eventLog {
	t.Helper()
	ln := pgdriver.NewListener(bdb)
	if err := ln.Listen(context.Background(), events.Channel); err != nil {
		t.Fatal(err)
	}
	l := &eventLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := range ln.Channel() {
			if ev, err := events.Decode(n.Payload); err == nil && n.Channel == events.Channel {
				l.mu.Lock()
				l.evs = append(l.evs, ev)
				l.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return l
}

// waitEvent waits for a status change of the message to status.
func (l *eventLog) waitEvent(t testing.TB, m *db.Message, status string) {
	t.Helper()
	waitFor(t, "event "+status+" for "+m.HexID(), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, ev := range l.evs {
			if ev.Kind == events.MessageStatusChanged && ev.MessageID == m.HexID() && ev.Status == status &&
				ev.CompanyID == m.CompanyID && ev.ConversationID == m.ConversationID {
				return true
			}
		}
		return false
	})
}
