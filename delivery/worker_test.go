package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/delivery"
	"github.com/connectme/connectme/resolvers"
	"github.com/connectme/connectme/testkit"
)

func TestDeliver_SendsOnceWithTheRightFields(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	evs := listenEvents(t, bdb)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "Hello from CONNECTME"})
	got := waitHandled(t, bdb, m.ID)

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.User != accountSID || r.Pass != authToken {
		t.Errorf("basic auth = %q:%q", r.User, r.Pass)
	}
	want := url.Values{
		"From":           {*co.WhatsAppNumber},
		"To":             {"whatsapp:" + *conv.User.Phone},
		"Body":           {"Hello from CONNECTME"},
		"StatusCallback": {callbackURL + "?mid=" + m.HexID()}, // a callback names the message
	}
	for k, v := range want {
		if r.Form.Get(k) != v[0] {
			t.Errorf("%s = %q, want %q", k, r.Form.Get(k), v[0])
		}
	}
	if r.Form.Has("ContentSid") || r.Form.Has("MediaUrl") {
		t.Errorf("unexpected fields: %v", r.Form)
	}
	if got.Status != db.StatusQueued || got.ProviderSID == nil || !strings.HasPrefix(*got.ProviderSID, "SM") {
		t.Errorf("message after send: status %s sid %v", got.Status, got.ProviderSID)
	}
	if n := countRows(t, bdb, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows left", n)
	}
	evs.waitEvent(t, got, db.StatusQueued)
}

func TestDeliver_TemplateWithContentSidSendsContentVariablesAndNoBody(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Time{})
	sid := "HX00000000000000000000000000000001"
	tpl := &db.Template{CompanyID: &co.ID, Name: "order_shipped", Language: "en",
		Content: "Your {{1}} order of {{2}} has shipped", ContentSID: &sid}
	if _, err := bdb.NewInsert().Model(tpl).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "Your Acme order of 3 mugs has shipped", templateID: &tpl.ID,
		params: []string{"Acme", "3 mugs"}})
	waitHandled(t, bdb, m.ID)

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("provider got %d requests, want 1", len(reqs))
	}
	f := reqs[0].Form
	if f.Has("Body") {
		t.Errorf("Body sent with a ContentSid: %q", f.Get("Body"))
	}
	if f.Get("ContentSid") != sid {
		t.Errorf("ContentSid = %q", f.Get("ContentSid"))
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(f.Get("ContentVariables")), &vars); err != nil || vars["1"] != "Acme" || vars["2"] != "3 mugs" || len(vars) != 2 {
		t.Errorf("ContentVariables = %q (%v)", f.Get("ContentVariables"), err)
	}
}

func TestDeliver_TemplateWithoutContentSidSendsTheRenderedText(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Time{})
	startPool(t, fastConfig(bdb, fake.client()))

	shared := int64(1) // the spec's demo_account template, which has no content_sid
	m := store(t, bdb, conv, outbound{content: "Hi Ann! Thanks for contacting Us.", templateID: &shared, params: []string{"Ann"}})
	waitHandled(t, bdb, m.ID)
	f := fake.Requests()[0].Form
	if f.Get("Body") != "Hi Ann! Thanks for contacting Us." || f.Has("ContentSid") {
		t.Errorf("form = %v", f)
	}
}

func TestDeliver_MediaGoesAsMediaUrlsInOrder(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	cfg := fastConfig(bdb, fake.client())
	cfg.MediaURL = func(a *db.Attachment) string {
		if a.Filename == "unreachable.bin" {
			return ""
		}
		return fmt.Sprintf("https://connectme.example/media/%d?sig=x", a.ID)
	}
	startPool(t, cfg)

	atts := []*db.Attachment{
		{Type: db.AttachmentImage, Filename: "photo.jpg", ContentType: "image/jpeg", State: "STORED"},
		{Type: db.AttachmentDocument, Filename: "unreachable.bin", State: "STORED"},
		{Type: db.AttachmentDocument, Filename: "invoice.pdf", ContentType: "application/pdf", State: "STORED"},
	}
	m := store(t, bdb, conv, outbound{content: "Your documents", attach: atts})
	waitHandled(t, bdb, m.ID)
	f := fake.Requests()[0].Form
	want := []string{
		fmt.Sprintf("https://connectme.example/media/%d?sig=x", atts[0].ID),
		fmt.Sprintf("https://connectme.example/media/%d?sig=x", atts[2].ID),
	}
	if got := f["MediaUrl"]; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("MediaUrl = %v, want %v", got, want)
	}
	if f.Get("Body") != "Your documents" {
		t.Errorf("Body = %q", f.Get("Body"))
	}
}

func TestDeliver_TemporaryFailuresAreRetriedUntilSent(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	fake.answer = func(n int, _ url.Values) (int, string) {
		if n < 2 {
			return http.StatusInternalServerError, `{"code":20500,"message":"Internal Server Error","status":500}`
		}
		return http.StatusCreated, ""
	}
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "third time lucky"})
	got := waitHandled(t, bdb, m.ID)

	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("provider got %d requests, want 3 (500, 500, 201)", len(reqs))
	}
	for _, r := range reqs {
		if r.Form.Get("Body") != "third time lucky" {
			t.Errorf("request for another message: %v", r.Form)
		}
	}
	if got.Status != db.StatusQueued || got.ProviderSID == nil || got.ErrorCode != nil {
		t.Errorf("message = status %s sid %v error %v", got.Status, got.ProviderSID, got.ErrorCode)
	}
	if n := countRows(t, bdb, "messages"); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	if n := countRows(t, bdb, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows left", n)
	}
}

func TestDeliver_PermanentFailureIsFailedWithTheProviderCode(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	fake.answer = func(int, url.Values) (int, string) {
		return http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number: whatsapp:+9471","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`
	}
	evs := listenEvents(t, bdb)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "to nowhere"})
	got := waitHandled(t, bdb, m.ID)

	if got.Status != db.StatusFailed || got.ErrorCode == nil || *got.ErrorCode != "21211" {
		t.Errorf("message = status %s error %v", got.Status, got.ErrorCode)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("provider got %d requests, want 1 (no retry of a permanent error)", n)
	}
	if n := countRows(t, bdb, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows left", n)
	}
	evs.waitEvent(t, got, db.StatusFailed)
}

func TestDeliver_GivesUpAfterMaxAttempts(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	fake.answer = func(int, url.Values) (int, string) {
		return http.StatusTooManyRequests, `{"code":20429,"message":"Too Many Requests","status":429}`
	}
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	cfg := fastConfig(bdb, fake.client())
	cfg.MaxAttempts = 3
	startPool(t, cfg)

	m := store(t, bdb, conv, outbound{content: "never accepted"})
	got := waitHandled(t, bdb, m.ID)
	if got.Status != db.StatusFailed || got.ErrorCode == nil || *got.ErrorCode != "20429" {
		t.Errorf("message = status %s error %v", got.Status, got.ErrorCode)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("provider got %d requests, want 3", n)
	}
}

func TestDeliver_StopAndRestartSendsEachMessageExactlyOnce(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())

	stopFirst := startPool(t, fastConfig(bdb, fake.client()))
	var ids []uuid.UUID
	for i := range 10 {
		ids = append(ids, store(t, bdb, conv, outbound{content: fmt.Sprintf("message %d", i)}).ID)
		if i == 4 {
			// The instance goes away right after a commit, maybe mid-send.
			stopFirst()
		}
	}
	startPool(t, fastConfig(bdb, fake.client()))
	for _, id := range ids {
		waitHandled(t, bdb, id)
	}
	assertEachSentOnce(t, fake, 10)
}

func TestDeliver_CrashedWorkersMessageIsSentAfterItsLease(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	m := store(t, bdb, conv, outbound{content: "orphaned"})
	// An instance claims it and dies before sending.
	if got, err := db.ClaimDeliveries(ctx, bdb, 1, 300*time.Millisecond); err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}

	startPool(t, fastConfig(bdb, fake.client()))
	got := waitHandled(t, bdb, m.ID)
	if got.Status != db.StatusQueued || len(fake.Requests()) != 1 {
		t.Errorf("status %s after %d requests", got.Status, len(fake.Requests()))
	}
}

func TestDeliver_TwoPoolsSendFiftyMessagesExactlyOnce(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	convs := []*db.Conversation{
		testkit.Conversation(t, bdb, co.ID, time.Now()),
		testkit.Conversation(t, bdb, co.ID, time.Now()),
	}
	startPool(t, fastConfig(bdb, fake.client()))
	startPool(t, fastConfig(bdb, fake.client()))

	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 50)
	for w := range 5 {
		wg.Go(func() {
			for i := w; i < 50; i += 5 {
				ids[i] = store(t, bdb, convs[i%2], outbound{content: fmt.Sprintf("message %d", i)}).ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if m := waitHandled(t, bdb, id); m.Status != db.StatusQueued {
			t.Errorf("message %s is %s", m.HexID(), m.Status)
		}
	}
	assertEachSentOnce(t, fake, 50)
	if n := countRows(t, bdb, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows left", n)
	}
}

func TestDeliver_EarlyStatusCallbackIsAppliedAfterTheSend(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	// Twilio reports "delivered" before its answer to the send call reaches us.
	r := &resolvers.Resolver{DB: bdb}
	fake.beforeAccept = func(sid string) {
		if err := r.ReceiveStatus(context.Background(), "", sid, "delivered", ""); err != nil {
			t.Errorf("early callback: %v", err)
		}
	}
	evs := listenEvents(t, bdb)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "quick delivery"})
	got := waitHandled(t, bdb, m.ID)
	if got.Status != db.StatusDelivered {
		t.Errorf("status = %s, want DELIVERED (the early callback)", got.Status)
	}
	if n := countRows(t, bdb, "early_statuses"); n != 0 {
		t.Errorf("%d early statuses left", n)
	}
	evs.waitEvent(t, got, db.StatusDelivered)
}

func TestDeliver_NotifyWakesTheWorkersWithoutPolling(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	cfg := fastConfig(bdb, fake.client())
	cfg.PollInterval = time.Hour
	startPool(t, cfg)

	// The first may be found by the pool's initial look at the table; once it is
	// sent, the pool is idle, and only the NOTIFY can bring the second.
	waitHandled(t, bdb, store(t, bdb, conv, outbound{content: "first"}).ID)
	waitHandled(t, bdb, store(t, bdb, conv, outbound{content: "second"}).ID)
}

func TestDeliver_StopFinishesTheSendInFlight(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	fake.answer = func(int, url.Values) (int, string) {
		close(arrived)
		<-release
		return http.StatusCreated, ""
	}
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	stop := startPool(t, fastConfig(bdb, fake.client()))

	m := store(t, bdb, conv, outbound{content: "in flight"})
	<-arrived
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	close(release)
	<-stopped
	// Run has returned: the send it had in flight is recorded, not left to be resent.
	got := reload(t, bdb, m.ID)
	if got.Status != db.StatusQueued || got.ProviderSID == nil {
		t.Errorf("after stop: status %s sid %v", got.Status, got.ProviderSID)
	}
	if n := countRows(t, bdb, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows left", n)
	}
}

func TestDeliver_DevProviderMarksMessagesSent(t *testing.T) {
	bdb := testkit.DB(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, delivery.DevProvider{Log: testLog()}))

	got := waitHandled(t, bdb, store(t, bdb, conv, outbound{content: "offline"}).ID)
	if got.Status != db.StatusSent || got.ProviderSID == nil || !strings.HasPrefix(*got.ProviderSID, "SMdev") {
		t.Errorf("status %s sid %v", got.Status, got.ProviderSID)
	}
}

func TestDeliver_MessageWithoutSenderNumberFailsWithoutCallingTheProvider(t *testing.T) {
	ctx := context.Background()
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	if _, err := bdb.NewUpdate().Model(co).Set("whatsapp_number = NULL").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	startPool(t, fastConfig(bdb, fake.client()))

	got := waitHandled(t, bdb, store(t, bdb, conv, outbound{content: "from nobody"}).ID)
	if got.Status != db.StatusFailed || len(fake.Requests()) != 0 {
		t.Errorf("status %s after %d requests", got.Status, len(fake.Requests()))
	}
}

// assertEachSentOnce checks that the provider got n requests, one per distinct Body.
func assertEachSentOnce(t *testing.T, fake *fakeTwilio, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range fake.Requests() {
		seen[r.Form.Get("Body")]++
	}
	if len(seen) != n {
		t.Errorf("provider got %d distinct messages, want %d", len(seen), n)
	}
	for body, c := range seen {
		if c != 1 {
			t.Errorf("%q sent %d times", body, c)
		}
	}
}

// Accepted sends are recorded in batches. A batch that cannot be recorded (here:
// the provider gave two messages the same sid, which the unique index refuses) is
// recorded by each worker on its own, so the other messages of the batch are
// recorded at once and sent only once.
func TestDeliver_ABatchThatCannotBeRecordedIsRecordedOneByOne(t *testing.T) {
	bdb := testkit.DB(t)
	fake := newFakeTwilio(t)
	co := testkit.Company(t, bdb)
	conv := testkit.Conversation(t, bdb, co.ID, time.Now())
	const n = 4
	// Hold the first n answers until all n sends are in, so their outcomes reach
	// the recorder together; the first two get the same sid.
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	var once sync.Once
	fake.answer = func(i int, form url.Values) (int, string) {
		sid := newSID()
		if i < n {
			arrived <- struct{}{}
			if len(arrived) == n {
				once.Do(func() { close(release) })
			}
			<-release
			if i < 2 {
				sid = "SMdup00000000000000000000000000000"
			}
		}
		return http.StatusCreated, fmt.Sprintf(`{"sid":%q,"status":"queued","to":%q,"from":%q,"error_code":null,"error_message":null}`,
			sid, form.Get("To"), form.Get("From"))
	}
	cfg := fastConfig(bdb, fake.client())
	cfg.Lease = 2 * time.Second
	startPool(t, cfg)
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = store(t, bdb, conv, outbound{content: fmt.Sprintf("batch %d", i)}).ID
	}
	// Every message ends up recorded: the one that lost the sid after its lease,
	// sent again with a sid of its own.
	sids := map[string]bool{}
	for _, id := range ids {
		m := waitHandled(t, bdb, id)
		if m.ProviderSID == nil || sids[*m.ProviderSID] {
			t.Fatalf("message %s: provider sid %v (seen: %v)", m.HexID(), m.ProviderSID, sids)
		}
		sids[*m.ProviderSID] = true
	}
	// Only the message whose sid was taken was sent twice.
	twice := 0
	seen := map[string]int{}
	for _, r := range fake.Requests() {
		seen[r.Form.Get("Body")]++
	}
	for body, c := range seen {
		switch {
		case c == 2:
			twice++
		case c != 1:
			t.Errorf("%q sent %d times", body, c)
		}
	}
	if len(seen) != n || twice != 1 {
		t.Errorf("sent %v; want each of %d once but one twice", seen, n)
	}
	if left := countRows(t, bdb, "deliveries"); left != 0 {
		t.Errorf("%d delivery rows left", left)
	}
}
