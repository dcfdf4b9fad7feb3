package rest_test

import (
	"bytes"
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

	"github.com/connectme/connectme/config"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
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
	if contact.CompanyID != company.ID || contact.PhoneOrEmpty() != "+94717936775" || contact.FirstName != "Nimal Perera" {
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
			a.State != "PENDING" || a.StorageKey != nil {
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

func TestMessageIn_BadInputIs4xxAndStoresNothing(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	valid := func(change func(url.Values)) string {
		f := inboundForm("SMbad0000000000000000000000000000", "+94717936775", company)
		change(f)
		return f.Encode()
	}
	media := func(f url.Values) {
		f.Set("NumMedia", "2")
		f.Set("MediaUrl0", "https://media.example/0.jpg")
		f.Set("MediaContentType0", "image/jpeg")
		f.Set("MediaUrl1", "https://media.example/1.jpg")
		f.Set("MediaContentType1", "image/jpeg")
	}
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"missing MessageSid", formType, valid(func(f url.Values) { f.Del("MessageSid") }), 400, "MessageSid should not be empty"},
		{"missing From", formType, valid(func(f url.Values) { f.Del("From") }), 400, "From should not be empty"},
		{"missing To", formType, valid(func(f url.Values) { f.Del("To") }), 400, "To should not be empty"},
		{"From not a phone", formType, valid(func(f url.Values) { f.Set("From", "whatsapp:hello") }), 400, "From must be a WhatsApp phone number"},
		{"From national", formType, valid(func(f url.Values) { f.Set("From", "whatsapp:0717936775") }), 400, "From must be a WhatsApp phone number"},
		{"To of no company", formType, valid(func(f url.Values) { f.Set("To", "whatsapp:+10000000000") }), 404, "no company has the WhatsApp number"},
		{"MessageSid with quotes", formType, valid(func(f url.Values) { f.Set("MessageSid", "SM'; DROP TABLE") }), 400, "MessageSid must be"},
		{"MessageSid twice", formType, valid(func(f url.Values) { f.Add("MessageSid", "SMother") }), 400, "MessageSid must be given once"},
		{"NumMedia 2 without MediaUrl1", formType, valid(func(f url.Values) { media(f); f.Del("MediaUrl1") }), 400, "MediaUrl1 should not be empty"},
		{"NumMedia 1 with MediaUrl1", formType, valid(func(f url.Values) { media(f); f.Set("NumMedia", "1") }), 400, "MediaUrl1 does not match NumMedia 1"},
		{"media without NumMedia", formType, valid(func(f url.Values) { media(f); f.Del("NumMedia") }), 400, "MediaUrl0 does not match NumMedia 0"},
		{"odd media index", formType, valid(func(f url.Values) { media(f); f.Set("MediaUrl01", "https://x/y") }), 400, "MediaUrl01 does not match"},
		{"NumMedia not a number", formType, valid(func(f url.Values) { f.Set("NumMedia", "two") }), 400, "NumMedia must be a whole number from 0 to 10"},
		{"NumMedia negative", formType, valid(func(f url.Values) { f.Set("NumMedia", "-1") }), 400, "NumMedia must be a whole number"},
		{"NumMedia over 10", formType, valid(func(f url.Values) { f.Set("NumMedia", "11") }), 400, "NumMedia must be a whole number"},
		{"media URL not http", formType, valid(func(f url.Values) { media(f); f.Set("MediaUrl1", "file:///etc/passwd") }), 400, "MediaUrl1 must be an http or https URL"},
		{"media type not MIME", formType, valid(func(f url.Values) { media(f); f.Set("MediaContentType0", "jpeg") }), 400, "MediaContentType0 must be a MIME type"},
		{"NUL in Body", formType, valid(func(f url.Values) { f.Set("Body", "a\x00b") }), 400, "Body must be UTF-8 text"},
		{"invalid UTF-8 in Body", formType, valid(func(f url.Values) { f.Set("Body", "a\xffb") }), 400, "Body must be UTF-8 text"},
		{"NUL in ProfileName", formType, valid(func(f url.Values) { f.Set("ProfileName", "\x00") }), 400, "ProfileName must be UTF-8 text"},
		{"malformed form", formType, "MessageSid=%zz&From=x", 400, "request body must be form encoded"},
		{"text/plain", "text/plain", valid(func(url.Values) {}), 400, "Content-Type must be application/x-www-form-urlencoded or application/json"},
		{"multipart", "multipart/form-data; boundary=x", valid(func(url.Values) {}), 400, "Content-Type must be"},
		{"no content type", "", valid(func(url.Values) {}), 400, "Content-Type must be"},
		{"malformed JSON", "application/json", `{"MessageSid":`, 400, "request body must be a JSON object"},
		{"JSON array", "application/json", `[]`, 400, "request body must be a JSON object"},
		{"JSON object as MessageSid", "application/json", `{"MessageSid":{"a":1},"From":"whatsapp:+94717936775","To":"x"}`, 400, "MessageSid must be a string"},
		{"huge body", formType, valid(func(f url.Values) { f.Set("Body", strings.Repeat("a", 70<<10)) }), 413, "request body is larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := post(app, "/message/messagein", tc.contentType, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			var e struct {
				StatusCode int    `json:"statusCode"`
				Message    any    `json:"message"`
				Error      string `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.StatusCode != tc.status || e.Error != nestErrorName(tc.status) {
				t.Fatalf("not the NestJS error shape: %s", body)
			}
			if tc.status == 400 {
				if _, ok := e.Message.([]any); !ok {
					t.Errorf("400 message is not a list: %s", body)
				}
			}
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("%s does not say %q", body, tc.want)
			}
		})
	}
	if got := stored(t, app); got != "contacts=0 conversations=0 messages=0 attachments=0" {
		t.Errorf("refused webhooks stored %s", got)
	}
}

// outbound makes a SENT message with a provider sid, as the delivery worker leaves it.
func outbound(t *testing.T, app *testkit.App, conv *db.Conversation, sid string) *db.Message {
	t.Helper()
	m := testkit.Message(t, app.DB, conv, db.DirectionSent, "hi", app.Clock.Now())
	if sid != "" {
		if _, err := app.DB.NewUpdate().Model(m).Set("provider_sid = ?", sid).WherePK().Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func statusOf(t *testing.T, app *testkit.App, m *db.Message) (string, *string) {
	t.Helper()
	var row db.Message
	if err := app.DB.NewSelect().Model(&row).Where("id = ?", m.ID).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return row.Status, row.ErrorCode
}

func postStatus(t *testing.T, app *testkit.App, sid, status string, extra ...string) {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	r := postForm(app, "/message/status", form)
	if r.Status != http.StatusCreated || strings.TrimSpace(string(r.Body)) != `{"status":"ok"}` {
		t.Fatalf("status %s: %d %s", status, r.Status, r.Body)
	}
}

func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{append([]string(nil), xs...)}
	}
	var out [][]string
	for i := range xs {
		others := append(append([]string(nil), xs[:i]...), xs[i+1:]...)
		for _, p := range permutations(others) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

func TestStatus_EveryOrderEndsAtTheFurthestState(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	for _, order := range permutations([]string{"queued", "sent", "delivered", "read"}) {
		sid := newSID()
		m := outbound(t, app, conv, sid)
		for _, s := range order {
			postStatus(t, app, sid, s)
		}
		if got, _ := statusOf(t, app, m); got != db.StatusRead {
			t.Errorf("order %v ends at %s, want READ", order, got)
		}
	}
	for _, order := range permutations([]string{"accepted", "sending", "sent", "delivered"}) {
		sid := newSID()
		m := outbound(t, app, conv, sid)
		for _, s := range order {
			postStatus(t, app, sid, s)
		}
		if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
			t.Errorf("order %v ends at %s, want DELIVERED", order, got)
		}
	}
}

func TestStatus_ConcurrentCallbacksEndAtTheFurthestState(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	var msgs []*db.Message
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 5; i++ {
		sid := newSID()
		msgs = append(msgs, outbound(t, app, conv, sid))
		for _, s := range []string{"read", "queued", "delivered", "sent"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"MessageSid": {sid}, "MessageStatus": {s}}
				if status, body, err := post(app, "/message/status", formType, form.Encode()); err != nil || status != 201 {
					errs <- fmt.Sprintf("%s: %d %s %v", s, status, body, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, m := range msgs {
		if got, _ := statusOf(t, app, m); got != db.StatusRead {
			t.Errorf("ends at %s, want READ", got)
		}
	}
}

func TestStatus_LateOrFailedCallbacksNeverMoveBack(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})

	sid := newSID()
	m := outbound(t, app, conv, sid)
	postStatus(t, app, sid, "delivered")
	postStatus(t, app, sid, "sent")
	if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
		t.Errorf("late sent: %s, want DELIVERED", got)
	}
	postStatus(t, app, sid, "failed", "ErrorCode", "30008")
	postStatus(t, app, sid, "undelivered", "ErrorCode", "30003")
	if got, code := statusOf(t, app, m); got != db.StatusDelivered || code != nil {
		t.Errorf("failure after delivered: %s %v, want DELIVERED without error code", got, code)
	}

	sid = newSID()
	m = outbound(t, app, conv, sid)
	postStatus(t, app, sid, "sent")
	postStatus(t, app, sid, "undelivered", "ErrorCode", "63016")
	postStatus(t, app, sid, "delivered")
	if got, code := statusOf(t, app, m); got != db.StatusUndelivered || deref(code) != "63016" {
		t.Errorf("undelivered: %s %s, want UNDELIVERED 63016", got, deref(code))
	}
}

func TestStatus_EarlyCallbackIsAppliedWhenTheSidIsRecorded(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	m := outbound(t, app, conv, "")
	sid := newSID()
	// The provider calls back before the send call's answer recorded the sid.
	postStatus(t, app, sid, "delivered")
	postStatus(t, app, sid, "sent")
	if got, _ := statusOf(t, app, m); got != db.StatusPending {
		t.Fatalf("before the sid is known: %s", got)
	}
	ch, err := db.AttachProviderSID(t.Context(), app.DB, company.ID, m.ID, sid, db.StatusQueued)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := statusOf(t, app, m); got != db.StatusDelivered || ch == nil || ch.Status != db.StatusDelivered {
		t.Errorf("after AttachProviderSID: %s (change %+v), want DELIVERED", got, ch)
	}
}

func TestStatus_PublishesStatusChangedOnlyWhenItMoves(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	ln := listen(t, app)
	postStatus(t, app, sid, "delivered")
	_, payload, err := ln.ReceiveTimeout(t.Context(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := events.Decode(payload)
	if ev.Kind != events.MessageStatusChanged || ev.CompanyID != company.ID || ev.ConversationID != conv.ID ||
		ev.MessageID != m.HexID() || ev.Status != db.StatusDelivered {
		t.Errorf("event %+v", ev)
	}
	postStatus(t, app, sid, "sent")
	if _, payload, err := ln.ReceiveTimeout(t.Context(), 300*time.Millisecond); err == nil {
		t.Errorf("a status that did not move published %s", payload)
	}
}

func TestStatus_BadInputIs400(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	cases := []struct {
		name, body, want string
	}{
		{"unknown status", url.Values{"MessageSid": {sid}, "MessageStatus": {"exploded"}}.Encode(), "MessageStatus must be one of"},
		{"receiving is not a callback status", url.Values{"MessageSid": {sid}, "MessageStatus": {"receiving"}}.Encode(), "MessageStatus must be one of"},
		{"missing status", url.Values{"MessageSid": {sid}}.Encode(), "MessageStatus should not be empty"},
		{"missing sid", url.Values{"MessageStatus": {"read"}}.Encode(), "MessageSid should not be empty"},
		{"status twice", url.Values{"MessageSid": {sid}, "MessageStatus": {"read", "sent"}}.Encode(), "MessageStatus must be given once"},
		{"NUL error code", url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"\x00"}}.Encode(), "ErrorCode must be"},
	}
	for _, tc := range cases {
		status, body, err := post(app, "/message/status", formType, tc.body)
		if err != nil || status != 400 || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), `"error":"Bad Request"`) {
			t.Errorf("%s: %d %s %v", tc.name, status, body, err)
		}
	}
	if got, _ := statusOf(t, app, m); got != db.StatusPending {
		t.Errorf("refused callbacks moved the message to %s", got)
	}
	if n := count(t, app, "SELECT count(*) FROM early_statuses"); n != 0 {
		t.Errorf("refused callbacks kept %d early statuses", n)
	}
	// JSON works too.
	if r := call(t, app, "POST", "/message/status", "", map[string]any{"MessageSid": sid, "MessageStatus": "sent"}); r.Status != 201 {
		t.Errorf("JSON status: %d %s", r.Status, r.Body)
	}
}

// signedApp is a server with a provider token, behind a fixed public URL that differs
// from the httptest address (as behind a proxy).
const (
	signToken  = "twilio-test-auth-token"
	publicBase = "https://connectme.example"
)

func signedApp(t *testing.T) *testkit.App {
	return testkit.NewApp(t, func(c *config.Config) {
		c.TwilioAuthToken = signToken
		c.PublicBaseURL = publicBase
	})
}

func TestWebhooks_SignatureRequiredWithAToken(t *testing.T) {
	app := signedApp(t)
	company := testkit.Company(t, app.DB)
	form := inboundForm(newSID(), "+94717936775", company)
	good := twilio.Sign(signToken, publicBase+"/message/messagein", form)
	cases := []struct {
		name, path, sig string
		form            url.Values
	}{
		{"unsigned", "/message/messagein", "", form},
		{"garbage", "/message/messagein", "bm9wZQ==", form},
		{"other token", "/message/messagein", twilio.Sign("other-token", publicBase+"/message/messagein", form), form},
		{"signed for the Host URL", "/message/messagein", twilio.Sign(signToken, app.Server.URL+"/message/messagein", form), form},
		{"signed for another path", "/message/messagein", twilio.Sign(signToken, publicBase+"/message/status", form), form},
		{"extra query not signed", "/message/messagein?x=1", good, form},
		{"body changed after signing", "/message/messagein", good, func() url.Values {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("Body", "tampered")
			return f
		}()},
	}
	for _, tc := range cases {
		status, body, err := post(app, tc.path, formType, tc.form.Encode(), "X-Twilio-Signature", tc.sig)
		if err != nil || status != http.StatusForbidden ||
			strings.TrimSpace(string(body)) != `{"statusCode":403,"message":"invalid or missing X-Twilio-Signature","error":"Forbidden"}` {
			t.Errorf("%s: %d %s %v", tc.name, status, body, err)
		}
	}
	if got := stored(t, app); got != "contacts=0 conversations=0 messages=0 attachments=0" {
		t.Fatalf("refused calls stored %s", got)
	}
	// Signed correctly, with a query string Twilio was configured with.
	q := "/message/messagein?source=twilio&v=2"
	if status, body, _ := post(app, q, formType, form.Encode(), "X-Twilio-Signature", twilio.Sign(signToken, publicBase+q, form)); status != 201 {
		t.Fatalf("signed: %d %s", status, body)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=1 attachments=0" {
		t.Errorf("signed call stored %s", got)
	}

	// The status webhook is guarded too.
	conv := testkit.Conversation(t, app.DB, company.ID, time.Time{})
	sid := newSID()
	m := outbound(t, app, conv, sid)
	st := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}}
	if status, body, _ := post(app, "/message/status", formType, st.Encode()); status != 403 {
		t.Errorf("unsigned status: %d %s", status, body)
	}
	if got, _ := statusOf(t, app, m); got != db.StatusPending {
		t.Errorf("unsigned status applied: %s", got)
	}
	if status, body, _ := post(app, "/message/status", formType, st.Encode(), "X-Twilio-Signature", twilio.Sign(signToken, publicBase+"/message/status", st)); status != 201 {
		t.Errorf("signed status: %d %s", status, body)
	}
	if got, _ := statusOf(t, app, m); got != db.StatusDelivered {
		t.Errorf("signed status not applied: %s", got)
	}
}

func TestWebhooks_SignedJSONCarriesTheBodyHash(t *testing.T) {
	app := signedApp(t)
	company := testkit.Company(t, app.DB)
	body, _ := json.Marshal(map[string]string{
		"MessageSid": newSID(), "From": "whatsapp:+94717936775", "To": *company.WhatsAppNumber, "Body": "json",
	})
	path := "/message/messagein?bodySHA256=" + sha256Hex(body)
	sig := twilio.Sign(signToken, publicBase+path, nil)
	cases := []struct {
		name, path, body, sig string
	}{
		{"unsigned", path, string(body), ""},
		{"body changed", path, string(bytes.Replace(body, []byte(`"json"`), []byte(`"JSON"`), 1)), sig},
		{"no body hash", "/message/messagein", string(body), twilio.Sign(signToken, publicBase+"/message/messagein", nil)},
	}
	for _, tc := range cases {
		if status, resp, _ := post(app, tc.path, "application/json", tc.body, "X-Twilio-Signature", tc.sig); status != 403 {
			t.Errorf("%s: %d %s", tc.name, status, resp)
		}
	}
	if status, resp, _ := post(app, path, "application/json", string(body), "X-Twilio-Signature", sig); status != 201 {
		t.Fatalf("signed JSON: %d %s", status, resp)
	}
	if got := stored(t, app); got != "contacts=1 conversations=1 messages=1 attachments=0" {
		t.Errorf("stored %s", got)
	}
}

func TestWebhooks_UnsignedCallsAcceptedWithoutAToken(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	r := postForm(app, "/message/messagein", inboundForm(newSID(), "+94717936775", company), "X-Twilio-Signature", "anything")
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// nestErrorName is the "error" field NestJS writes for a status (413 differs from
// Go's status text).
func nestErrorName(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "Payload Too Large"
	}
	return http.StatusText(status)
}
