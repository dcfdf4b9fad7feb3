package rest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
	"github.com/connectme/connectme/twilio"
)

// contentQuery reads what the inbox shows of a conversation's messages.
const contentQuery = `query($id: ID!) { messages(conversationId: $id, first: 20) { edges { node {
	id type content
	location { latitude longitude address label }
	interactiveReply { text payload }
	referral { sourceType sourceId sourceUrl headline body }
	replyTo { id content }
} } } }`

type contentNode struct {
	ID       string
	Type     string
	Content  *string
	Location *struct {
		Latitude, Longitude float64
		Address, Label      *string
	}
	InteractiveReply *struct {
		Text    string
		Payload *string
	}
	Referral *struct{ SourceType, SourceID, SourceURL, Headline, Body *string }
	ReplyTo  *struct{ ID string }
}

// receive posts an inbound form and returns the stored message's id.
func receive(t *testing.T, app *testkit.App, form url.Values, headers ...string) string {
	t.Helper()
	r := postForm(app, "/message/messagein", form, headers...)
	if r.Status != 201 {
		t.Fatalf("messagein: %d %s", r.Status, r.Body)
	}
	var out struct{ MessageID string }
	r.JSON(t, &out)
	return out.MessageID
}

// nodes returns the conversation's messages (newest first) as GraphQL shows them,
// keyed by id.
func nodes(t *testing.T, app *testkit.App, token string, convID int64) map[string]contentNode {
	t.Helper()
	res := app.GraphQL(token, contentQuery, map[string]any{"id": itoa(convID)})
	if len(res.Errors) > 0 {
		t.Fatalf("messages: %+v", res.Errors)
	}
	var data struct {
		Messages struct{ Edges []struct{ Node contentNode } }
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	out := map[string]contentNode{}
	for _, e := range data.Messages.Edges {
		out[e.Node.ID] = e.Node
	}
	return out
}

func conversationOf(t *testing.T, app *testkit.App, messageID string) int64 {
	t.Helper()
	return int64(count(t, app, "SELECT conversation_id::int FROM messages WHERE id = ?::uuid", messageID))
}

// legacyContents returns the legacy page's content and type of each message, by id.
func legacyContents(t *testing.T, app *testkit.App, token string, convID int64) map[string]string {
	t.Helper()
	r := call(t, app, "GET", "/message/message-page-list/"+itoa(convID)+"?page=1&limit=20", token, nil)
	var page struct {
		Data []struct {
			MessageID, Type string
			Content         *string
		}
	}
	r.JSON(t, &page)
	out := map[string]string{}
	for _, m := range page.Data {
		out[m.MessageID] = m.Type + " " + deref(m.Content)
	}
	return out
}

func TestMessageIn_LocationIsKeptAndShownReadably(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	tok := app.Token(testkit.Agent(t, app.DB, company.ID))
	form := inboundForm(newSID(), "+94717936775", company)
	form.Del("Body")
	form.Set("Latitude", "6.9271")
	form.Set("Longitude", "79.8612")
	form.Set("Address", "Main St 1")
	form.Set("Label", "Office")
	id := receive(t, app, form)
	// Coordinates only, as WhatsApp sends a pin dropped on the map.
	bare := inboundForm(newSID(), "+94717936775", company)
	bare.Set("Body", "")
	bare.Set("Latitude", "-33.8688")
	bare.Set("Longitude", "151.2093")
	bareID := receive(t, app, bare)

	conv := conversationOf(t, app, id)
	got := nodes(t, app, tok, conv)
	m := got[id]
	if m.Type != "LOCATION" || m.Content != nil || m.Location == nil || m.Location.Latitude != 6.9271 ||
		m.Location.Longitude != 79.8612 || deref(m.Location.Address) != "Main St 1" || deref(m.Location.Label) != "Office" {
		t.Errorf("location message: %+v %+v", m, m.Location)
	}
	if b := got[bareID]; b.Type != "LOCATION" || b.Location == nil || b.Location.Address != nil || b.Location.Label != nil {
		t.Errorf("bare location: %+v", b)
	}
	legacy := legacyContents(t, app, tok, conv)
	if legacy[id] != "LOCATION Office, Main St 1 (6.9271, 79.8612)" || legacy[bareID] != "LOCATION (-33.8688, 151.2093)" {
		t.Errorf("legacy contents: %q", legacy)
	}
}

func TestMessageIn_ButtonReplyAndReferral(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	tok := app.Token(testkit.Agent(t, app.DB, company.ID))
	form := inboundForm(newSID(), "+94717936775", company)
	form.Del("Body")
	form.Set("ButtonText", "Yes, book it")
	form.Set("ButtonPayload", "BOOK_42")
	form.Set("ReferralSourceType", "ad")
	form.Set("ReferralSourceId", "120208000000000")
	form.Set("ReferralSourceUrl", "https://fb.me/abc")
	form.Set("ReferralHeadline", "Spring sale")
	form.Set("ReferralBody", "Half price on Tuesdays")
	id := receive(t, app, form)
	// A button without payload, with the text also in Body as Twilio sends it.
	plain := inboundForm(newSID(), "+94717936775", company)
	plain.Set("Body", "No thanks")
	plain.Set("ButtonText", "No thanks")
	plainID := receive(t, app, plain)

	conv := conversationOf(t, app, id)
	got := nodes(t, app, tok, conv)
	m := got[id]
	if m.Type != "INTERACTIVE_REPLY" || m.InteractiveReply == nil || m.InteractiveReply.Text != "Yes, book it" ||
		deref(m.InteractiveReply.Payload) != "BOOK_42" {
		t.Errorf("button reply: %+v", m)
	}
	if r := m.Referral; r == nil || deref(r.SourceType) != "ad" || deref(r.SourceID) != "120208000000000" ||
		deref(r.SourceURL) != "https://fb.me/abc" || deref(r.Headline) != "Spring sale" || deref(r.Body) != "Half price on Tuesdays" {
		t.Errorf("referral: %+v", m.Referral)
	}
	if p := got[plainID]; p.Type != "INTERACTIVE_REPLY" || p.InteractiveReply == nil || p.InteractiveReply.Payload != nil ||
		p.Referral != nil || deref(p.Content) != "No thanks" {
		t.Errorf("plain button reply: %+v", p)
	}
	legacy := legacyContents(t, app, tok, conv)
	if legacy[id] != "INTERACTIVE_REPLY Yes, book it" || legacy[plainID] != "INTERACTIVE_REPLY No thanks" {
		t.Errorf("legacy contents: %q", legacy)
	}
}

func TestMessageIn_ReplyToResolvesInTheSameConversationOnly(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	tok := app.Token(testkit.Agent(t, app.DB, company.ID))
	other := testkit.Company(t, app.DB)

	firstSID, strangerSID, foreignSID := newSID(), newSID(), newSID()
	first := receive(t, app, inboundForm(firstSID, "+94717936775", company))
	// The same company's other conversation, and another company's message.
	receive(t, app, inboundForm(strangerSID, "+94717936776", company))
	receive(t, app, inboundForm(foreignSID, "+94717936775", other))

	reply := func(sid string) string {
		f := inboundForm(newSID(), "+94717936775", company)
		f.Set("OriginalRepliedMessageSid", sid)
		return receive(t, app, f)
	}
	toFirst := reply(firstSID)
	toStranger := reply(strangerSID)
	toForeign := reply(foreignSID)
	toUnknown := reply("SMnever0000000000000000000000000")

	got := nodes(t, app, tok, conversationOf(t, app, first))
	if r := got[toFirst].ReplyTo; r == nil || r.ID != first {
		t.Errorf("reply to the first message: %+v", got[toFirst])
	}
	for name, id := range map[string]string{"other conversation": toStranger, "other company": toForeign, "unknown": toUnknown} {
		if m, ok := got[id]; !ok || m.ReplyTo != nil || m.Type != "TEXT" {
			t.Errorf("reply to %s: %+v (listed %v)", name, m, ok)
		}
	}
	// An id known only later (an outbound message whose send answer comes after the
	// reply) resolves when it is.
	late := "SMlate0000000000000000000000000000"
	toLate := reply(late)
	conv := &db.Conversation{ID: conversationOf(t, app, first), CompanyID: company.ID}
	outbound(t, app, conv, late)
	if r := nodes(t, app, tok, conv.ID)[toLate].ReplyTo; r == nil {
		t.Errorf("a reply to an id recorded later does not resolve")
	}
}

func TestMessageIn_BadContentFieldsAre400AndStoreNothing(t *testing.T) {
	app := testkit.NewApp(t)
	company := testkit.Company(t, app.DB)
	with := func(kv ...string) url.Values {
		f := inboundForm(newSID(), "+94717936775", company)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"latitude over 90", with("Latitude", "90.5", "Longitude", "10"), "Latitude must be a number from -90 to 90"},
		{"latitude under -90", with("Latitude", "-91", "Longitude", "10"), "Latitude must be a number from -90 to 90"},
		{"longitude over 180", with("Latitude", "10", "Longitude", "180.01"), "Longitude must be a number from -180 to 180"},
		{"longitude not a number", with("Latitude", "10", "Longitude", "east"), "Longitude must be a number"},
		{"latitude NaN", with("Latitude", "NaN", "Longitude", "10"), "Latitude must be a number"},
		{"latitude Inf", with("Latitude", "Inf", "Longitude", "10"), "Latitude must be a number"},
		{"latitude alone", with("Latitude", "10"), "Longitude should not be empty when Latitude is given"},
		{"longitude alone", with("Longitude", "10"), "Latitude should not be empty when Longitude is given"},
		{"address without coordinates", with("Address", "Main St 1"), "Latitude and Longitude should not be empty when Address or Label is given"},
		{"label NUL", with("Latitude", "1", "Longitude", "1", "Label", "a\x00"), "Label must be UTF-8 text"},
		{"payload without text", with("ButtonPayload", "X"), "ButtonText should not be empty when ButtonPayload is given"},
		{"button and location", with("ButtonText", "Yes", "Latitude", "1", "Longitude", "1"), "ButtonText cannot be combined with Latitude and Longitude"},
		{"button text too long", with("ButtonText", strings.Repeat("b", 1025)), "ButtonText must be shorter than or equal to 1024 characters"},
		{"replied sid with quotes", with("OriginalRepliedMessageSid", "SM'x"), "OriginalRepliedMessageSid must be"},
		{"referral URL not http", with("ReferralSourceUrl", "javascript:alert(1)"), "ReferralSourceUrl must be an http or https URL"},
		{"referral headline invalid UTF-8", with("ReferralHeadline", "a\xffb"), "ReferralHeadline must be UTF-8 text"},
	}
	for _, tc := range cases {
		r := postForm(app, "/message/messagein", tc.form)
		var body struct {
			StatusCode int
			Message    []string
		}
		_ = json.Unmarshal(r.Body, &body)
		if r.Status != 400 || body.StatusCode != 400 || len(body.Message) == 0 || !strings.Contains(strings.Join(body.Message, "|"), tc.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", tc.name, r.Status, r.Body, tc.want)
		}
	}
	if got := stored(t, app); got != "contacts=0 conversations=0 messages=0 attachments=0" {
		t.Errorf("refused calls stored %s", got)
	}
}

func TestMessageIn_SignedContentFields(t *testing.T) {
	app := signedApp(t)
	company := testkit.Company(t, app.DB)
	tok := app.Token(testkit.Agent(t, app.DB, company.ID))
	form := inboundForm(newSID(), "+94717936775", company)
	form.Set("Latitude", "6.9271")
	form.Set("Longitude", "79.8612")
	form.Set("Label", "Office")
	form.Set("OriginalRepliedMessageSid", "SMunknown000000000000000000000000")
	form.Set("ReferralSourceType", "post")
	sig := twilio.Sign(signToken, publicBase+"/message/messagein", form)

	// The signature covers the new fields like any other: changing one refuses it.
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("Latitude", "7.0")
	if r := postForm(app, "/message/messagein", tampered, "X-Twilio-Signature", sig); r.Status != 403 {
		t.Fatalf("tampered latitude: %d %s", r.Status, r.Body)
	}
	id := receive(t, app, form, "X-Twilio-Signature", sig)
	m := nodes(t, app, tok, conversationOf(t, app, id))[id]
	if m.Type != "LOCATION" || m.Location == nil || m.Location.Latitude != 6.9271 || m.ReplyTo != nil ||
		m.Referral == nil || deref(m.Referral.SourceType) != "post" {
		t.Errorf("signed location: %+v", m)
	}
}
