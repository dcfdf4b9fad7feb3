package rest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const formType = "application/x-www-form-urlencoded"

var sidSeq atomic.Int64

// newSID returns a unique Twilio-like message sid.
func newSID() string {
	return fmt.Sprintf("SM%032x", time.Now().UnixNano()+sidSeq.Add(1)<<40)
}

// inboundForm is the form Twilio posts for a text message from phone to the company.
func inboundForm(sid, phone string, company *db.Company) url.Values {
	return url.Values{
		"MessageSid":  {sid},
		"SmsSid":      {sid},
		"AccountSid":  {"AC00000000000000000000000000000000"},
		"From":        {"whatsapp:" + phone},
		"To":          {*company.WhatsAppNumber},
		"Body":        {"Hello there"},
		"NumMedia":    {"0"},
		"ProfileName": {"Nimal Perera"},
		"WaId":        {strings.TrimPrefix(phone, "+")},
	}
}

// postForm posts a form to the app from the test goroutine.
func postForm(app *testkit.App, path string, form url.Values, headers ...string) *testkit.Response {
	app.T.Helper()
	return call(app.T, app, "POST", path, "", form.Encode(), append([]string{"Content-Type", formType}, headers...)...)
}

// post is safe to call from any goroutine (testkit.Do is not: it calls t.Fatal).
func post(app *testkit.App, path, contentType, body string, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest("POST", app.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func count(t testing.TB, app *testkit.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := app.DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// stored counts every row a webhook may write.
func stored(t testing.TB, app *testkit.App) string {
	t.Helper()
	return fmt.Sprintf("contacts=%d conversations=%d messages=%d attachments=%d",
		count(t, app, "SELECT count(*) FROM users WHERE kind = 'CONTACT'"),
		count(t, app, "SELECT count(*) FROM conversations"),
		count(t, app, "SELECT count(*) FROM messages"),
		count(t, app, "SELECT count(*) FROM attachments"))
}

func TestMessageIn_StoresContactConversationMessageAndAttachments(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123_000_000, time.UTC)
	app.Clock.Set(at)
	sid := newSID()
	form := inboundForm(sid, "+94717936775", company)
	form.Set("Body", "Here are the photos")
	form.Set("NumMedia", "3")
	form.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME0")
	form.Set("MediaContentType0", "image/jpeg")
	form.Set("MediaUrl1", "https://media.example/files/voice%20note.ogg?x=1")
	form.Set("MediaContentType1", "audio/ogg; codecs=opus")
	form.Set("MediaUrl2", "https://media.example/files/../..")
	form.Set("MediaContentType2", "application/pdf")
	r := postForm(app, "/message/messagein", form)
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var resp struct {
		Status    string `json:"status"`
		MessageID string `json:"messageId"`
		Duplicate bool   `json:"duplicate"`
	}
	r.JSON(t, &resp)
	if resp.Status != "ok" || len(resp.MessageID) != 32 || resp.Duplicate {
		t.Fatalf("answer %s", r.Body)
	}

	var contact db.User
	if err := app.DB.NewSelect().Model(&contact).Where("kind = 'CONTACT'").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if contact.CompanyID != company.ID || contact.Phone == nil || *contact.Phone != "+94717936775" || contact.FirstName != "Nimal Perera" {
		t.Errorf("contact %+v", contact)
	}
	var conv db.Conversation
	if err := app.DB.NewSelect().Model(&conv).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if conv.CompanyID != company.ID || conv.UserID != contact.ID || conv.ChannelID != db.ChannelWhatsApp {
		t.Errorf("conversation %+v", conv)
	}
	if conv.LastFreeMessageTime == nil || !conv.LastFreeMessageTime.Equal(at) || conv.LastUpdateTime == nil || !conv.LastUpdateTime.Equal(at) {
		t.Errorf("conversation times %v %v, want %v", conv.LastFreeMessageTime, conv.LastUpdateTime, at)
	}
	var m db.Message
	if err := app.DB.NewSelect().Model(&m).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.HexID() != resp.MessageID || m.CompanyID != company.ID || m.ConversationID != conv.ID ||
		m.Direction != db.DirectionReceived || m.Status != db.StatusPending || m.MessageType != db.TypeMedia ||
		deref(m.Content) != "Here are the photos" || deref(m.ProviderSID) != sid ||
		m.SenderID == nil || *m.SenderID != contact.ID || !m.Datetime.Equal(at) {
		t.Errorf("message %+v", m)
	}
	var atts []db.Attachment
	if err := app.DB.NewSelect().Model(&atts).Order("ord").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, ct, name, url string }{
		{db.AttachmentImage, "image/jpeg", "ME0", form.Get("MediaUrl0")},
		{db.AttachmentAudio, "audio/ogg", "voice_note.ogg", form.Get("MediaUrl1")},
		{db.AttachmentDocument, "application/pdf", "media-2", form.Get("MediaUrl2")},
	}
	if len(atts) != len(want) {
		t.Fatalf("%d attachments, want %d", len(atts), len(want))
	}
	for i, a := range atts {
		w := want[i]
		if a.CompanyID != company.ID || a.MessageID == nil || *a.MessageID != m.ID || a.Order == nil || *a.Order != i ||
			a.Type != w.typ || a.ContentType != w.ct || a.Filename != w.name || deref(a.SourceURL) != w.url ||
			(a.State != "PENDING" && a.State != "FAILED") || a.StorageKey != nil {
			// Stored PENDING; the app's media fetcher may already have given up on
			// one whose URL is not on the provider's origin (media-2), never stored it.
			t.Errorf("attachment %d: %+v, want %+v", i, a, w)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestMessageIn_TextMessageAndEmptyBody(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	form := inboundForm(newSID(), "+94717936775", company)
	if r := postForm(app, "/message/messagein", form); r.Status != http.StatusCreated {
		t.Fatalf("text: %d %s", r.Status, r.Body)
	}
	// A WhatsApp message with neither text nor media (a location, say) is still the
	// contact writing: it is kept, with no content.
	form = inboundForm(newSID(), "+94717936775", company)
	form.Del("Body")
	form.Del("NumMedia")
	if r := postForm(app, "/message/messagein", form); r.Status != http.StatusCreated {
		t.Fatalf("empty: %d %s", r.Status, r.Body)
	}
	var ms []db.Message
	if err := app.DB.NewSelect().Model(&ms).Order("datetime", "id").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].MessageType != db.TypeText || deref(ms[0].Content) != "Hello there" ||
		ms[1].MessageType != db.TypeText || ms[1].Content != nil {
		t.Errorf("messages %+v", ms)
	}
	if n := count(t, app, "SELECT count(*) FROM conversations"); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
}

func TestMessageIn_AcceptsJSON(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	body := map[string]any{
		"MessageSid": newSID(), "From": "whatsapp:+94717936775", "To": *company.WhatsAppNumber,
		"Body": "json hello", "NumMedia": 1, "MediaUrl0": "https://media.example/a.mp4", "MediaContentType0": "video/mp4",
		"ProfileName": "Kamal", "Extra": map[string]any{"ignored": true},
	}
	r := call(t, app, "POST", "/message/messagein", "", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if n := count(t, app, "SELECT count(*) FROM attachments WHERE type = 'VIDEO' AND filename = 'a.mp4'"); n != 1 {
		t.Errorf("video attachments = %d", n)
	}
	if n := count(t, app, "SELECT count(*) FROM messages WHERE content = 'json hello'"); n != 1 {
		t.Errorf("messages = %d", n)
	}
}

func TestMessageIn_RepeatedSidIsStoredOnceAndChangesNothing(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	app.Clock.Set(at)
	form := inboundForm(newSID(), "+94717936775", company)
	form.Set("NumMedia", "1")
	form.Set("MediaUrl0", "https://media.example/a.jpg")
	form.Set("MediaContentType0", "image/jpeg")
	first := postForm(app, "/message/messagein", form)
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	before := stored(t, app)
	app.Clock.Set(at.Add(time.Hour))
	second := postForm(app, "/message/messagein", form)
	if second.Status != http.StatusCreated {
		t.Fatalf("repeat: %d %s", second.Status, second.Body)
	}
	m1, m2 := first.Map(t), second.Map(t)
	if m2["duplicate"] != true || m2["messageId"] != m1["messageId"] {
		t.Errorf("repeat answered %s (first %s)", second.Body, first.Body)
	}
	if after := stored(t, app); after != before {
		t.Errorf("repeat stored more: %s, before %s", after, before)
	}
	var conv db.Conversation
	if err := app.DB.NewSelect().Model(&conv).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !conv.LastFreeMessageTime.Equal(at) || !conv.LastUpdateTime.Equal(at) {
		t.Errorf("repeat moved the conversation times to %v / %v", conv.LastFreeMessageTime, conv.LastUpdateTime)
	}
}

func TestMessageIn_ConcurrentRepeatsStoreOneMessage(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	form := inboundForm(newSID(), "+94717936775", company)
	form.Set("NumMedia", "1")
	form.Set("MediaUrl0", "https://media.example/a.jpg")
	form.Set("MediaContentType0", "image/jpeg")
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fails []string
	ids := map[string]int{}
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, body, err := post(app, "/message/messagein", formType, form.Encode())
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != http.StatusCreated {
				fails = append(fails, fmt.Sprintf("%d %s %v", status, body, err))
				return
			}
			var resp struct{ MessageID string }
			_ = json.Unmarshal(body, &resp)
			ids[resp.MessageID]++
		}()
	}
	close(start)
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("failed posts: %v", fails)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=1 attachments=1" {
		t.Errorf("stored %s", got)
	}
	if len(ids) != 1 {
		t.Errorf("answers name %d message ids: %v", len(ids), ids)
	}
}

func TestMessageIn_ConcurrentFirstMessagesMakeOneContactAndConversation(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		form := inboundForm(newSID(), "+94771234567", company)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, body, err := post(app, "/message/messagein", formType, form.Encode())
			if err != nil || status != http.StatusCreated {
				errs <- fmt.Sprintf("%d %s %v", status, body, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=20 attachments=0" {
		t.Errorf("stored %s", got)
	}
}

func TestMessageIn_ContactNames(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	edited := testkit.Contact(t, app.DB, company.ID)
	if _, err := app.DB.NewUpdate().Model(edited).Set("first_name = ''").Set("name_edited = true").WherePK().Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	named := testkit.Contact(t, app.DB, company.ID)
	unnamed := testkit.Contact(t, app.DB, company.ID)
	if _, err := app.DB.NewUpdate().Model(unnamed).Set("first_name = ''").WherePK().Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*db.User{edited, named, unnamed} {
		form := inboundForm(newSID(), *c.Phone, company)
		form.Set("ProfileName", "WhatsApp Name")
		if r := postForm(app, "/message/messagein", form); r.Status != http.StatusCreated {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	name := func(id int64) string {
		var s string
		if err := app.DB.NewRaw("SELECT first_name FROM users WHERE id = ?", id).Scan(t.Context(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := name(edited.ID); got != "" {
		t.Errorf("a name an agent edited (to empty) was overwritten with %q", got)
	}
	if got := name(named.ID); got != "Contact" {
		t.Errorf("an existing name was overwritten with %q", got)
	}
	if got := name(unnamed.ID); got != "WhatsApp Name" {
		t.Errorf("an empty, unedited name was not filled: %q", got)
	}
	if n := count(t, app, "SELECT count(*) FROM users WHERE kind = 'CONTACT'"); n != 3 {
		t.Errorf("%d contacts, want the 3 existing ones", n)
	}
}

func TestMessageIn_LandsInTheCompanyOfTheToNumber(t *testing.T) {
	app := testkit.NewApp(t)
	a := testkit.Company(t, app.DB)
	b := testkit.Company(t, app.DB)
	bContact := testkit.Contact(t, app.DB, b.ID)
	// The same phone writes to A: A gets its own contact; B's contact and data stay
	// untouched.
	r := postForm(app, "/message/messagein", inboundForm(newSID(), *bContact.Phone, a))
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if n := count(t, app, "SELECT count(*) FROM messages WHERE company_id = ?", b.ID); n != 0 {
		t.Errorf("company B got %d messages", n)
	}
	if n := count(t, app, "SELECT count(*) FROM conversations WHERE company_id = ?", b.ID); n != 0 {
		t.Errorf("company B got %d conversations", n)
	}
	if n := count(t, app, `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN users u ON u.id = c.user_id WHERE m.company_id = ? AND c.company_id = ? AND u.company_id = ? AND u.id <> ?`,
		a.ID, a.ID, a.ID, bContact.ID); n != 1 {
		t.Errorf("company A has %d messages in its own conversation with its own contact, want 1", n)
	}
	// A repeated sid sent to B's number does not reveal or touch A's message.
	form := inboundForm(newSID(), "+94770000001", a)
	first := postForm(app, "/message/messagein", form)
	form.Set("To", *b.WhatsAppNumber)
	r = postForm(app, "/message/messagein", form)
	if r.Status != http.StatusCreated || r.Map(t)["messageId"] != nil || first.Map(t)["messageId"] == nil {
		t.Errorf("repeat to another company: %d %s", r.Status, r.Body)
	}
	if n := count(t, app, "SELECT count(*) FROM users WHERE company_id = ? AND phone = '+94770000001'", b.ID); n != 0 {
		t.Errorf("the refused repeat made a contact in company B")
	}
}

// listen subscribes to the event channel. pgdriver's Listen only sends LISTEN, so it
// then notifies a marker until the marker comes back: from then on, no event is missed.
func listen(t *testing.T, app *testkit.App) *pgdriver.Listener {
	t.Helper()
	ln := pgdriver.NewListener(app.DB)
	t.Cleanup(func() { ln.Close() })
	if err := ln.Listen(t.Context(), events.Channel); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := pgdriver.Notify(t.Context(), app.DB, events.Channel, "listening"); err != nil {
			t.Fatal(err)
		}
		if _, payload, err := ln.ReceiveTimeout(t.Context(), 200*time.Millisecond); err == nil && payload == "listening" {
			// A marker of an earlier round that came too late may still be queued.
			for {
				if _, _, err := ln.ReceiveTimeout(t.Context(), 50*time.Millisecond); err != nil {
					return ln
				}
			}
		}
	}
	t.Fatal("LISTEN never took effect")
	return nil
}

func TestMessageIn_PublishesEventsOnCommitOnly(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	ln := listen(t, app)
	form := inboundForm(newSID(), "+94717936775", company)
	r := postForm(app, "/message/messagein", form)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	messageID := r.Map(t)["messageId"]
	var convID int64
	if err := app.DB.NewRaw("SELECT id FROM conversations").Scan(t.Context(), &convID); err != nil {
		t.Fatal(err)
	}
	got := map[events.Kind]events.Event{}
	for len(got) < 2 {
		_, payload, err := ln.ReceiveTimeout(t.Context(), 5*time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		ev, err := events.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		got[ev.Kind] = ev
	}
	added, updated := got[events.MessageAdded], got[events.ConversationUpdated]
	if added.CompanyID != company.ID || added.ConversationID != convID || added.MessageID != messageID {
		t.Errorf("message_added %+v", added)
	}
	if updated.CompanyID != company.ID || updated.ConversationID != convID {
		t.Errorf("conversation_updated %+v", updated)
	}
	// A repeat is rolled back: nothing is published.
	if r := postForm(app, "/message/messagein", form); r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if _, payload, err := ln.ReceiveTimeout(t.Context(), 300*time.Millisecond); err == nil {
		t.Errorf("a repeated sid published %s", payload)
	}
}
