package rest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/testkit"
)

type chatTimeReport struct {
	LastFreeMessageTime *string  `json:"lastFreeMessageTime"`
	ComparedTime        string   `json:"comparedTime"`
	Duration            *float64 `json:"duration"`
}

func TestChatTimeReport_DurationIsTheHoursLeftInTheWindow(t *testing.T) {
	w := newWorld(t)
	now := w.now()
	open := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-90*time.Minute))
	closed := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-25*time.Hour))
	edge := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-24*time.Hour))
	never := testkit.Conversation(t, w.app.DB, w.a.ID, time.Time{})
	cases := []struct {
		conv     *db.Conversation
		last     any
		duration float64
	}{
		{open, legacy(now.Add(-90 * time.Minute)), 22.5},
		{closed, legacy(now.Add(-25 * time.Hour)), 0},
		{edge, legacy(now.Add(-24 * time.Hour)), 0},
		{never, nil, 0},
	}
	for _, c := range cases {
		r := w.do(t, "GET", "/conversation/chat-time-report/"+itoa(c.conv.ID), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		m := r.Map(t)
		if m["lastFreeMessageTime"] != c.last || m["comparedTime"] != legacy(now) || m["duration"] != c.duration {
			t.Errorf("conversation %d: %s; want last %v, duration %v", c.conv.ID, r.Body, c.last, c.duration)
		}
		if v, ok := m["lastFreeMessageTime"]; !ok || (v != nil && !legacyTime.MatchString(v.(string))) {
			t.Errorf("lastFreeMessageTime: %s", r.Body)
		}
	}
	// The window runs with the clock.
	w.app.Clock.Set(now.Add(12 * time.Hour))
	var rep chatTimeReport
	w.do(t, "GET", "/conversation/chat-time-report/"+itoa(open.ID), nil).JSON(t, &rep)
	if rep.Duration == nil || *rep.Duration != 10.5 || rep.ComparedTime != legacy(now.Add(12*time.Hour)) {
		t.Errorf("12 hours later: %+v", rep)
	}
}

func TestChatTimeReport_AnotherCompanysConversationLooksLikeNone(t *testing.T) {
	w := newWorld(t)
	foreign := testkit.Conversation(t, w.app.DB, w.b.ID, w.now())
	wantBody(t, w.do(t, "GET", "/conversation/chat-time-report/"+itoa(foreign.ID), nil), http.StatusForbidden, noConversation)
	wantBody(t, w.do(t, "GET", "/conversation/chat-time-report/"+itoa(foreign.ID+1000), nil), http.StatusForbidden, noConversation)
	for _, id := range []string{"abc", "0", "-2", "+1", "2.0", "1e2", "99999999999999999999"} {
		wantError(t, w.do(t, "GET", "/conversation/chat-time-report/"+id, nil), http.StatusBadRequest,
			"conversationId must be a positive integer id")
	}
}

type conversationPage struct {
	TotalCount int    `json:"totalCount"`
	Page       string `json:"page"`
	Limit      string `json:"limit"`
	Data       []struct {
		ConversationID      int64      `json:"conversationId"`
		CompanyID           int64      `json:"companyId"`
		UserID              int64      `json:"userId"`
		ChannelID           int        `json:"channelId"`
		LastUpdateTime      *string    `json:"lastUpdateTime"`
		LastFreeMessageTime *string    `json:"lastFreeMessageTime"`
		Status              string     `json:"status"`
		AssigneeID          *int64     `json:"assigneeId"`
		User                legacyUser `json:"user"`
	} `json:"data"`
}

func (p *conversationPage) ids() []int64 {
	out := make([]int64, len(p.Data))
	for i, c := range p.Data {
		out[i] = c.ConversationID
	}
	return out
}

func TestConversationPageList_MostRecentlyUpdatedFirstNullsLast(t *testing.T) {
	w := newWorld(t)
	now := w.now()
	c1 := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-3*time.Hour))
	c2 := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-1*time.Hour))
	never := testkit.Conversation(t, w.app.DB, w.a.ID, time.Time{})
	c4 := testkit.Conversation(t, w.app.DB, w.a.ID, now.Add(-2*time.Hour))
	// An outbound message updates the conversation but not its window.
	if _, err := w.app.DB.NewUpdate().Model((*db.Conversation)(nil)).Set("last_update_time = ?", now.Add(-30*time.Minute)).
		Where("id = ?", c1.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.Conversation(t, w.app.DB, w.b.ID, now) // another company's

	r := w.do(t, "GET", "/conversation/conversation-page-list?page=1&limit=10", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var p conversationPage
	r.JSON(t, &p)
	want := []int64{c1.ID, c2.ID, c4.ID, never.ID}
	if p.TotalCount != 4 || p.Page != "1" || p.Limit != "10" || !equalIDs(p.ids(), want) {
		t.Fatalf("total %d page %q limit %q ids %v, want %v", p.TotalCount, p.Page, p.Limit, p.ids(), want)
	}
	first := p.Data[0]
	if first.CompanyID != w.a.ID || first.UserID != c1.UserID || first.ChannelID != 1 ||
		*first.LastUpdateTime != legacy(now.Add(-30*time.Minute)) || *first.LastFreeMessageTime != legacy(now.Add(-3*time.Hour)) ||
		first.User != (legacyUser{c1.UserID, c1.User.FirstName, c1.User.LastName, *c1.User.Phone}) {
		t.Errorf("first item: %+v", first)
	}
	last := r.Map(t)["data"].([]any)[3].(map[string]any)
	for _, k := range []string{"lastUpdateTime", "lastFreeMessageTime"} {
		if v, ok := last[k]; !ok || v != nil {
			t.Errorf("%s of a never-updated conversation = %v (present %v), want null", k, v, ok)
		}
	}

	// Pages count them all and echo page and limit as strings.
	w.do(t, "GET", "/conversation/conversation-page-list?page=2&limit=3", nil).JSON(t, &p)
	if p.TotalCount != 4 || p.Page != "2" || p.Limit != "3" || !equalIDs(p.ids(), []int64{never.ID}) {
		t.Errorf("page 2: total %d page %q limit %q ids %v", p.TotalCount, p.Page, p.Limit, p.ids())
	}
	r = w.do(t, "GET", "/conversation/conversation-page-list", nil)
	r.JSON(t, &p)
	if p.Page != "1" || p.Limit != "20" || len(p.Data) != 4 {
		t.Errorf("defaults: %s", r.Body)
	}
	r = w.do(t, "GET", "/conversation/conversation-page-list?page=9&limit=3", nil)
	wantBody(t, r, http.StatusOK, `{"totalCount":4,"page":"9","limit":"3","data":[]}`)
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
