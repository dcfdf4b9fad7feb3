package rest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

type searchPage struct {
	TotalCount int `json:"totalCount"`
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Data       []struct {
		legacyMessage
		User *struct {
			UserID    int64  `json:"userId"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
			Phone     string `json:"phone"`
		} `json:"user"`
	} `json:"data"`
}

func (p *searchPage) ids() []string {
	out := make([]string, len(p.Data))
	for i, d := range p.Data {
		out[i] = d.MessageID
	}
	return out
}

func TestMessageSearch_BestMatchFirstThenNewestWithTheContact(t *testing.T) {
	w := newWorld(t)
	now := w.now()
	c1 := testkit.Conversation(t, w.app.DB, w.a.ID, now)
	c2 := testkit.Conversation(t, w.app.DB, w.a.ID, now)
	best := testkit.Message(t, w.app.DB, c1, db.DirectionReceived, "invoice invoice invoice", now.Add(-5*time.Hour))
	olderTwin := testkit.Message(t, w.app.DB, c2, db.DirectionSent, "your invoice is ready", now.Add(-4*time.Hour))
	newerTwin := testkit.Message(t, w.app.DB, c1, db.DirectionSent, "your invoice is ready", now.Add(-3*time.Hour))
	substring := testkit.Message(t, w.app.DB, c2, db.DirectionReceived, "it was reinvoiced", now.Add(-time.Hour))
	testkit.Message(t, w.app.DB, c1, db.DirectionReceived, "nothing to see", now)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, now)
	testkit.Message(t, w.app.DB, foreign, db.DirectionReceived, "invoice invoice invoice invoice", now)

	r := w.do(t, "GET", "/message/message-search/invoice", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var p searchPage
	r.JSON(t, &p)
	want := []string{best.HexID(), newerTwin.HexID(), olderTwin.HexID(), substring.HexID()}
	if p.TotalCount != 4 || p.Page != 1 || p.Limit != 20 || strings.Join(p.ids(), ",") != strings.Join(want, ",") {
		t.Fatalf("got total %d order %v, want %v", p.TotalCount, p.ids(), want)
	}
	for _, d := range p.Data {
		conv := c1
		if d.ConversationID == c2.ID {
			conv = c2
		}
		if d.User == nil || d.User.UserID != conv.UserID || d.User.Phone != *conv.User.Phone || d.User.FirstName != conv.User.FirstName {
			t.Errorf("item %s: user %+v, want the contact of conversation %d", d.MessageID, d.User, conv.ID)
		}
		if !legacyTime.MatchString(d.Datetime) || d.Content == nil {
			t.Errorf("item shape: %+v", d.legacyMessage)
		}
	}

	// Pages: totalCount counts them all.
	w.do(t, "GET", "/message/message-search/invoice?page=2&limit=3", nil).JSON(t, &p)
	if p.TotalCount != 4 || p.Page != 2 || p.Limit != 3 || len(p.Data) != 1 || p.Data[0].MessageID != substring.HexID() {
		t.Errorf("page 2: total %d page %d limit %d ids %v", p.TotalCount, p.Page, p.Limit, p.ids())
	}
	// Past the last page: no items, and still the whole count.
	w.do(t, "GET", "/message/message-search/invoice?page=3&limit=3", nil).JSON(t, &p)
	if p.TotalCount != 4 || len(p.Data) != 0 {
		t.Errorf("past the end: total %d ids %v", p.TotalCount, p.ids())
	}
	// Words are matched by prefix, case-insensitively, in any order.
	w.do(t, "GET", "/message/message-search/"+url.PathEscape("READY Your"), nil).JSON(t, &p)
	if p.TotalCount != 2 || p.Data[0].MessageID != newerTwin.HexID() {
		t.Errorf("two words: total %d ids %v", p.TotalCount, p.ids())
	}
	// Nothing found is an empty page, not an error.
	r = w.do(t, "GET", "/message/message-search/zebra", nil)
	wantBody(t, r, http.StatusOK, `{"totalCount":0,"page":1,"limit":20,"data":[]}`)
}

func TestMessageSearch_TermIsTakenLiterally(t *testing.T) {
	w := newWorld(t)
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, w.now())
	pct := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "save 100% now", w.now())
	esc := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "the code is %41", w.now().Add(-time.Second))
	slash := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "pay 1/2 today", w.now().Add(-2*time.Second))
	testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "A plain A", w.now().Add(-3*time.Second))
	for term, want := range map[string]string{
		"100%": pct.HexID(),
		"%41":  esc.HexID(),
		"1/2":  slash.HexID(),
	} {
		var p searchPage
		r := w.do(t, "GET", "/message/message-search/"+url.PathEscape(term), nil)
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.TotalCount != 1 || p.Data[0].MessageID != want {
			t.Errorf("term %q: %d total %d ids %v", term, r.Status, p.TotalCount, p.ids())
		}
	}
}

func TestMessageSearch_EmptyAndOverlongTermsAre400(t *testing.T) {
	w := newWorld(t)
	for name, c := range map[string]struct{ term, want string }{
		"blank":        {"%20%20", "term should not be empty"},
		"201 letters":  {strings.Repeat("a", 201), "term must be shorter than or equal to 200 characters"},
		"201 runes":    {url.PathEscape(strings.Repeat("é", 201)), "term must be shorter than or equal to 200 characters"},
		"long, padded": {"%20" + strings.Repeat("b", 201) + "%20", "term must be shorter than or equal to 200 characters"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, w.do(t, "GET", "/message/message-search/"+c.term, nil), http.StatusBadRequest, c.want)
		})
	}
	// 200 characters are fine.
	if r := w.do(t, "GET", "/message/message-search/"+strings.Repeat("a", 200), nil); r.Status != http.StatusOK {
		t.Errorf("200 characters: %d %s", r.Status, r.Body)
	}
	// No term at all is no such path.
	r := w.do(t, "GET", "/message/message-search/", nil)
	wantError(t, r, http.StatusNotFound, "")
}

// A hit carries its attachments, as a message page's items do; one without any has
// an empty list.
func TestMessageSearch_HitsCarryTheirAttachments(t *testing.T) {
	w := newWorld(t)
	now := w.now()
	conv := testkit.Conversation(t, w.app.DB, w.a.ID, now)
	photo := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "the receipt photo", now.Add(-time.Minute))
	att := attachment(t, w.app, w.a.ID, db.AttachmentImage, "receipt.jpg", 1234)
	attachTo(t, w.app, att, photo)
	plain := testkit.Message(t, w.app.DB, conv, db.DirectionReceived, "receipt later", now)

	var p searchPage
	w.do(t, "GET", "/message/message-search/receipt", nil).JSON(t, &p)
	if p.TotalCount != 2 || len(p.Data) != 2 {
		t.Fatalf("total %d ids %v", p.TotalCount, p.ids())
	}
	for _, d := range p.Data {
		switch d.MessageID {
		case photo.HexID():
			if len(d.Attachments) != 1 || d.Attachments[0].AttachmentID != att.ID || d.Attachments[0].Filename != "receipt.jpg" {
				t.Errorf("photo's attachments: %+v", d.Attachments)
			}
		case plain.HexID():
			if d.Attachments == nil || len(d.Attachments) != 0 {
				t.Errorf("plain message's attachments: %+v, want []", d.Attachments)
			}
		default:
			t.Errorf("unexpected hit %s", d.MessageID)
		}
	}
}
