package rest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

// legacyMessage is a message page item as a client decodes it.
type legacyMessage struct {
	MessageID      string  `json:"messageId"`
	ConversationID int64   `json:"conversationId"`
	Direction      string  `json:"direction"`
	Content        *string `json:"content"`
	Datetime       string  `json:"datetime"`
	Status         string  `json:"status"`
	Type           string  `json:"type"`
	TemplateID     *int64  `json:"templateId"`
	Attachments    []struct {
		AttachmentID int64  `json:"attachmentId"`
		Order        *int   `json:"order"`
		Type         string `json:"type"`
		Filename     string `json:"filename"`
		Filesize     int64  `json:"filesize"`
	} `json:"attachments"`
}

type messagePage struct {
	TotalCount int             `json:"totalCount"`
	Page       int             `json:"page"`
	Limit      int             `json:"limit"`
	Data       []legacyMessage `json:"data"`
}

func TestMessagePageList_NewestFirstWithTheLegacyShape(t *testing.T) {
	w := newWorld(t)
	now := w.now()
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-time.Hour))
	text := func(s string) *string { return &s }
	// Two messages share a datetime: the greater id comes first.
	tie := now.Add(-30 * time.Minute)
	low, high := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	if bytes.Compare(low[:], high[:]) > 0 {
		low, high = high, low
	}
	m1 := messageAt(t, w.app, conv, uuid.Must(uuid.NewV7()), text("oldest"), now.Add(-50*time.Minute))
	m2 := messageAt(t, w.app, conv, low, text("tie low"), tie)
	m3 := messageAt(t, w.app, conv, high, text("tie high"), tie)
	m4 := messageAt(t, w.app, conv, uuid.Must(uuid.NewV7()), nil, now.Add(-10*time.Minute)) // media only
	m5 := testkit.Message(t, w.app.DB, conv, db.DirectionSent, "newest", now.Add(-time.Minute))
	att := attachment(t, w.app, w.a.ID, db.AttachmentImage, "ice.jpg", 289516)
	attachTo(t, w.app, att, m4)
	// Another conversation's and another company's messages stay out.
	other := testkit.Conversation(t, w.app.DB, w.a.ID, now)
	testkit.Message(t, w.app.DB, other, db.DirectionReceived, "elsewhere", now)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, now)
	testkit.Message(t, w.app.DB, foreign, db.DirectionReceived, "foreign", now)

	r := w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=3", conv.ID), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var p messagePage
	r.JSON(t, &p)
	if p.TotalCount != 5 || p.Page != 1 || p.Limit != 3 || len(p.Data) != 3 {
		t.Fatalf("page: total %d page %d limit %d items %d", p.TotalCount, p.Page, p.Limit, len(p.Data))
	}
	want := []*db.Message{m5, m4, m3}
	for i, m := range want {
		if p.Data[i].MessageID != m.HexID() {
			t.Errorf("data[%d] = %s, want %s", i, p.Data[i].MessageID, m.HexID())
		}
	}
	for _, m := range p.Data {
		if !hexID.MatchString(m.MessageID) || m.ConversationID != conv.ID || !legacyTime.MatchString(m.Datetime) {
			t.Errorf("item shape: %+v", m)
		}
	}
	if got := p.Data[0]; got.Direction != "SENT" || got.Status != "PENDING" || *got.Content != "newest" ||
		got.Datetime != legacy(now.Add(-time.Minute)) || got.Type != "TEXT" || got.TemplateID != nil || len(got.Attachments) != 0 {
		t.Errorf("data[0] = %+v", got)
	}
	media := p.Data[1]
	if media.Content != nil || media.Direction != "RECEIVED" || len(media.Attachments) != 1 {
		t.Fatalf("media message: %s", r.Body)
	}
	if a := media.Attachments[0]; a.AttachmentID != att.ID || a.Order == nil || *a.Order != 0 ||
		a.Type != "IMAGE" || a.Filename != "ice.jpg" || a.Filesize != 289516 {
		t.Errorf("attachment = %+v", a)
	}
	// content is null, not missing or "".
	raw := r.Map(t)["data"].([]any)[1].(map[string]any)
	if v, ok := raw["content"]; !ok || v != nil {
		t.Errorf("content of a media message = %v (present %v), want null", v, ok)
	}

	r = w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=2&limit=3", conv.ID), nil)
	r.JSON(t, &p)
	if p.TotalCount != 5 || p.Page != 2 || len(p.Data) != 2 || p.Data[0].MessageID != m2.HexID() || p.Data[1].MessageID != m1.HexID() {
		t.Errorf("page 2: %s", r.Body)
	}
	r = w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=3&limit=3", conv.ID), nil)
	r.JSON(t, &p)
	if p.TotalCount != 5 || !bytes.Contains(r.Body, []byte(`"data":[]`)) {
		t.Errorf("past the end: %s", r.Body)
	}
}

func TestMessagePageList_DefaultsToPageOneOfTwenty(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	for i := range 25 {
		testkit.Message(t, w.app.DB, conv, db.DirectionReceived, fmt.Sprint("m", i), w.now().Add(time.Duration(-i)*time.Second))
	}
	var p messagePage
	w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d", conv.ID), nil).JSON(t, &p)
	if p.Page != 1 || p.Limit != 20 || p.TotalCount != 25 || len(p.Data) != 20 || *p.Data[0].Content != "m0" {
		t.Errorf("defaults: page %d limit %d total %d items %d", p.Page, p.Limit, p.TotalCount, len(p.Data))
	}
}

func TestMessagePageList_EmptyConversationIsAnEmptyList(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, time.Time{})
	r := w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=5", conv.ID), nil)
	wantBody(t, r, http.StatusOK, `{"totalCount":0,"page":1,"limit":5,"data":[]}`)
}

const noConversation = `{"statusCode":403,"message":"you don't have access to this conversation","error":"Forbidden"}`

func TestMessagePageList_AnotherCompanysConversationLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, w.now())
	testkit.Message(t, w.app.DB, foreign, db.DirectionReceived, "secret", w.now())
	theirs := w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=5", foreign.ID), nil)
	unknown := w.do(t, "GET", fmt.Sprintf("/message/message-page-list/%d?page=1&limit=5", foreign.ID+1000), nil)
	wantBody(t, theirs, http.StatusForbidden, noConversation)
	wantBody(t, unknown, http.StatusForbidden, noConversation)
	// B itself reads it.
	if r := call(t, w.app, "GET", fmt.Sprintf("/message/message-page-list/%d", foreign.ID), w.tokB, nil); r.Status != http.StatusOK {
		t.Errorf("owner: %d %s", r.Status, r.Body)
	}
}

func TestMessagePageList_IDsThatAreNotIDsAre400(t *testing.T) {
	w := newWorld(t)
	for _, id := range []string{"abc", "0", "-1", "+1", "1.5", "1e3", "%2B1", "99999999999999999999", "0x10", "%201"} {
		t.Run(id, func(t *testing.T) {
			r := w.do(t, "GET", "/message/message-page-list/"+id+"?page=1&limit=5", nil)
			wantError(t, r, http.StatusBadRequest, "coversation_id must be a positive integer id")
		})
	}
}
