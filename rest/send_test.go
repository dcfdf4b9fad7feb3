package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

func TestSendMessage_AnswersTheFirstPageWithTheNewMessageFirst(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-time.Hour))
	testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "hello?", w.now().Add(-time.Hour))
	testkit.Message(t, w.app.DB, conv, db.DirectionSent, "hi!", w.now().Add(-59*time.Minute))
	before := rowCounts(t, w.app)

	// to as a number, direction SEND and the deprecated companyName are accepted.
	r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "Your order shipped", "direction": "SEND", "companyName": 7})
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var p messagePage
	r.JSON(t, &p)
	if p.TotalCount != 3 || p.Page != 1 || p.Limit != 20 || len(p.Data) != 3 {
		t.Fatalf("page: %s", r.Body)
	}
	m := p.Data[0]
	// The page is read after the commit: the app's delivery workers may have sent
	// the message already.
	if *m.Content != "Your order shipped" || m.Direction != "SENT" || (m.Status != "PENDING" && m.Status != "SENT") || m.Type != "TEXT" ||
		m.ConversationID != conv.ID || m.Datetime != legacy(w.now()) || !hexID.MatchString(m.MessageID) {
		t.Errorf("data[0] = %+v", m)
	}
	after := rowCounts(t, w.app)
	if after["messages"] != before["messages"]+1 || after["conversations"] != before["conversations"] {
		t.Errorf("rows: before %v after %v; want one message", before, after)
	}
	// It was queued: the app's delivery workers (development provider) sent it.
	var status string
	_ = w.app.DB.NewRaw("SELECT status FROM messages WHERE content = 'Your order shipped'").Scan(context.Background(), &status)
	if status != db.StatusSent {
		t.Errorf("status after the outbox emptied: %s, want SENT", status)
	}
	var updated time.Time
	_ = w.app.DB.NewRaw("SELECT last_update_time FROM conversations WHERE id = ?", conv.ID).Scan(context.Background(), &updated)
	if !updated.Equal(w.now()) {
		t.Errorf("lastUpdateTime = %v, want %v", updated, w.now())
	}

	// to as a string of digits, direction SENT.
	r = w.do(t, "POST", "/message", map[string]any{"to": fmt.Sprint(conv.UserID), "text": "again", "direction": "SENT", "type": "TEXT"})
	r.JSON(t, &p)
	if r.Status != http.StatusOK || *p.Data[0].Content != "again" || p.TotalCount != 4 {
		t.Errorf("second send: %d %s", r.Status, r.Body)
	}
}

func TestSendMessage_TextOfExactly4096CharactersIsAccepted(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	text := strings.Repeat("é", 4096)
	r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": text})
	var p messagePage
	r.JSON(t, &p)
	if r.Status != http.StatusOK || *p.Data[0].Content != text {
		t.Errorf("%d %.200s", r.Status, r.Body)
	}
}

func TestSendMessage_ClosedWindowIsRefusedWithAHintToUseATemplate(t *testing.T) {
	w := newWorld(t)
	lastInbound := w.now()
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, lastInbound)
	noConv := testkit.Contact(t, w.app.DB, w.a.ID) // never wrote: no conversation, no window

	// One second before the edge the window is open …
	w.app.Clock.Set(lastInbound.Add(24*time.Hour - time.Second))
	if r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "just in time"}); r.Status != http.StatusOK {
		t.Fatalf("inside the window: %d %s", r.Status, r.Body)
	}
	before := rowCounts(t, w.app)
	// … at lastFreeMessageTime + 24h it is closed.
	for _, at := range []time.Duration{24 * time.Hour, 30 * 24 * time.Hour} {
		w.app.Clock.Set(lastInbound.Add(at))
		r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "text": "too late"})
		wantError(t, r, http.StatusUnprocessableEntity, "only a template message can be sent")
	}
	nothingStored(t, w.app, before)
	// Media needs the window too (an attachment of the company).
	att := attachment(t, w.app, w.a.ID, db.AttachmentImage, "a.jpg", 10)
	before = rowCounts(t, w.app)
	r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "attachmentId": att.ID})
	wantError(t, r, http.StatusUnprocessableEntity, "template")
	// A contact with no conversation has a closed window, and no conversation is made.
	r = w.do(t, "POST", "/message", map[string]any{"to": noConv.ID, "text": "hello"})
	wantError(t, r, http.StatusUnprocessableEntity, "template")
	nothingStored(t, w.app, before)
}

func TestSendMessage_TemplatesAreAlwaysAllowedAndRendered(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now().Add(-48*time.Hour)) // closed
	fresh := testkit.Contact(t, w.app.DB, w.a.ID)                                 // no conversation yet
	own := ownTemplate(t, w.app, w.a.ID, "Hello {{1}}, your code is {{2}}")
	cases := []struct {
		to      int64
		body    map[string]any
		tplID   int64
		content string
	}{
		{conv.UserID, map[string]any{"templateId": 2, "params": []string{"Acme", "3 shoes", "Friday", "https://x.test/o/1"}}, 2,
			"Your Acme order of 3 shoes has shipped and should be delivered on Friday. Details : https://x.test/o/1"},
		{conv.UserID, map[string]any{"templateId": "1", "params": []string{"Madhawa"}, "type": "TEMPLATE"}, 1,
			"Hi Madhawa! Thanks for contacting Us.  We are happy to create your demo account and will send you login credentials shortly.."},
		{conv.UserID, map[string]any{"templateId": own.ID, "params": []string{"Ann", "{{1}}"}}, own.ID, "Hello Ann, your code is {{1}}"},
		{fresh.ID, map[string]any{"templateId": 1, "params": []string{"New"}}, 1, strings.Replace(sharedTemplate1, "{{1}}", "New", 1)},
	}
	for i, c := range cases {
		c.body["to"] = c.to
		r := w.do(t, "POST", "/message", c.body)
		if r.Status != http.StatusOK {
			t.Fatalf("case %d: %d %s", i, r.Status, r.Body)
		}
		var p messagePage
		r.JSON(t, &p)
		m := p.Data[0]
		if m.Content == nil || *m.Content != c.content || m.Type != "TEMPLATE" || m.TemplateID == nil || *m.TemplateID != c.tplID {
			t.Errorf("case %d: data[0] = %+v", i, m)
		}
	}
	var n int
	_ = w.app.DB.NewRaw("SELECT count(*) FROM conversations WHERE user_id = ?", fresh.ID).Scan(context.Background(), &n)
	if n != 1 {
		t.Errorf("conversations of the fresh contact = %d, want 1 (found or created)", n)
	}
}

func TestSendMessage_WrongTemplateParameterCountIs400(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	before := rowCounts(t, w.app)
	for _, c := range []struct {
		id     int
		params any
		want   string
	}{
		{2, []string{"one"}, "params must have exactly 4 items for this template, not 1"},
		{2, []string{"1", "2", "3", "4", "5"}, "params must have exactly 4 items for this template, not 5"},
		{1, nil, "params must have exactly 1 items for this template, not 0"},
		{1, []string{}, "params must have exactly 1 items for this template, not 0"},
		{1, []string{strings.Repeat("x", 1025)}, "params.0 must be shorter than or equal to 1024 characters"},
	} {
		r := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "templateId": c.id, "params": c.params})
		wantError(t, r, http.StatusBadRequest, c.want)
	}
	nothingStored(t, w.app, before)
}

const noTemplate = `{"statusCode":403,"message":"you don't have access to this template","error":"Forbidden"}`

func TestSendMessage_AnotherCompanysTemplateLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	theirs := ownTemplate(t, w.app, w.b.ID, "Secret {{1}}")
	before := rowCounts(t, w.app)
	r1 := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "templateId": theirs.ID, "params": []string{"x"}})
	r2 := w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "templateId": theirs.ID + 1000, "params": []string{"x"}})
	wantBody(t, r1, http.StatusForbidden, noTemplate)
	wantBody(t, r2, http.StatusForbidden, noTemplate)
	nothingStored(t, w.app, before)
}

const noContact = `{"statusCode":403,"message":"you don't have access to this contact","error":"Forbidden"}`

func TestSendMessage_ToAnotherCompanysContactLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, w.now())
	before := rowCounts(t, w.app)
	for name, to := range map[string]int64{
		"B's contact":       foreign.UserID,
		"unknown user":      foreign.UserID + 1000,
		"A's own agent":     w.agentA.ID,
		"B's agent":         w.agentB.ID,
		"B's contact (tpl)": foreign.UserID,
	} {
		body := map[string]any{"to": to, "text": "hi"}
		if strings.HasSuffix(name, "(tpl)") {
			body = map[string]any{"to": to, "templateId": 1, "params": []string{"x"}}
		}
		wantBody(t, w.do(t, "POST", "/message", body), http.StatusForbidden, noContact)
	}
	nothingStored(t, w.app, before)
}

func TestSendMessage_AnotherCompanysAttachmentLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	theirs := attachment(t, w.app, w.b.ID, db.AttachmentImage, "b.jpg", 10)
	mine := attachment(t, w.app, w.a.ID, db.AttachmentImage, "ice.jpg", 289516)
	before := rowCounts(t, w.app)
	want := `{"statusCode":403,"message":"you don't have access to this attachment","error":"Forbidden"}`
	wantBody(t, w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "attachmentId": theirs.ID}), http.StatusForbidden, want)
	wantBody(t, w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "attachmentId": theirs.ID + 1000}), http.StatusForbidden, want)
	wantBody(t, w.do(t, "POST", "/message", map[string]any{"to": conv.UserID, "mediaUrl": fmt.Sprintf("/media/%d", theirs.ID)}), http.StatusForbidden, want)
	nothingStored(t, w.app, before)

	// The company's own attachment is sent, by id or by its relative URL.
	for _, body := range []map[string]any{
		{"to": conv.UserID, "attachmentId": mine.ID, "text": "caption"},
		{"to": conv.UserID, "mediaUrl": fmt.Sprintf("/media/%d", mine.ID), "type": "MEDIA"},
	} {
		r := w.do(t, "POST", "/message", body)
		var p messagePage
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.Data[0].Type != "MEDIA" || len(p.Data[0].Attachments) != 1 ||
			p.Data[0].Attachments[0].Filename != "ice.jpg" || p.Data[0].Attachments[0].Type != "IMAGE" {
			t.Errorf("%v: %d %s", body, r.Status, r.Body)
		}
	}
}

func TestSendMessage_BadInputIs400(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	to := conv.UserID
	before := rowCounts(t, w.app)
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"missing to", map[string]any{"text": "hi"}, "to should not be empty"},
		{"null to", map[string]any{"to": nil, "text": "hi"}, "to should not be empty"},
		{"to not an id", map[string]any{"to": "abc", "text": "hi"}, "to must be a positive integer id"},
		{"to zero", map[string]any{"to": 0, "text": "hi"}, "to must be a positive integer id"},
		{"to negative", map[string]any{"to": -3, "text": "hi"}, "to must be a positive integer id"},
		{"to fractional", map[string]any{"to": 1.5, "text": "hi"}, "to must be a positive integer id"},
		{"to boolean", map[string]any{"to": true, "text": "hi"}, "to must be a positive integer id"},
		{"to object", map[string]any{"to": map[string]any{"id": 1}, "text": "hi"}, "to must be a positive integer id"},
		{"to with sign", map[string]any{"to": fmt.Sprint("+", to), "text": "hi"}, "to must be a positive integer id"},
		{"text too long", map[string]any{"to": to, "text": strings.Repeat("a", 4097)}, "text must be shorter than or equal to 4096 characters"},
		{"text a number", map[string]any{"to": to, "text": 42}, "text must be a string"},
		{"no content", map[string]any{"to": to}, "a message needs text, an attachment or a template"},
		{"empty text", map[string]any{"to": to, "text": ""}, "a message needs text, an attachment or a template"},
		{"blank text", map[string]any{"to": to, "text": " \n\t "}, "a message needs text, an attachment or a template"},
		{"direction RECEIVED", map[string]any{"to": to, "text": "hi", "direction": "RECEIVED"}, "direction must be SEND or SENT"},
		{"direction nonsense", map[string]any{"to": to, "text": "hi", "direction": "sideways"}, "direction must be SEND or SENT"},
		{"direction a number", map[string]any{"to": to, "text": "hi", "direction": 1}, "direction must be a string"},
		{"unknown type", map[string]any{"to": to, "text": "hi", "type": "VOICE"}, "type must be one of TEXT, MEDIA, TEMPLATE"},
		{"type against content", map[string]any{"to": to, "text": "hi", "type": "MEDIA"}, "type MEDIA does not match the message content (TEXT)"},
		{"params without template", map[string]any{"to": to, "text": "hi", "params": []string{"x"}}, "params need a templateId"},
		{"params not strings", map[string]any{"to": to, "templateId": 1, "params": []int{1}}, "params must be an array of strings"},
		{"templateId not an id", map[string]any{"to": to, "templateId": "one"}, "templateId must be a positive integer id"},
		{"attachmentId not an id", map[string]any{"to": to, "attachmentId": "x"}, "attachmentId must be a positive integer id"},
		{"mediaUrl not an attachment", map[string]any{"to": to, "mediaUrl": "https://example.com/cat.jpg"}, "mediaUrl must be the URL of an uploaded attachment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "POST", "/message", c.body), http.StatusBadRequest, c.want)
		})
	}
	// Every problem is listed at once.
	r := w.do(t, "POST", "/message", map[string]any{"to": "x", "text": 1, "direction": "UP"})
	for _, want := range []string{"to must be a positive integer id", "text must be a string"} {
		wantError(t, r, http.StatusBadRequest, want)
	}
	nothingStored(t, w.app, before)
}
