package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listMessage is one message in Twilio's Messages list answer.
type listMessage struct {
	AccountSID   string  `json:"account_sid"`
	APIVersion   string  `json:"api_version"`
	Body         string  `json:"body"`
	DateCreated  string  `json:"date_created"`
	DateSent     *string `json:"date_sent"`
	DateUpdated  string  `json:"date_updated"`
	Direction    string  `json:"direction"`
	ErrorCode    *int    `json:"error_code"`
	ErrorMessage *string `json:"error_message"`
	From         string  `json:"from"`
	NumMedia     string  `json:"num_media"`
	NumSegments  string  `json:"num_segments"`
	SID          string  `json:"sid"`
	Status       string  `json:"status"`
	To           string  `json:"to"`
	URI          string  `json:"uri"`
}

// listPage is Twilio's Messages list answer.
type listPage struct {
	Messages        []listMessage `json:"messages"`
	Page            int           `json:"page"`
	PageSize        int           `json:"page_size"`
	Start           int           `json:"start"`
	End             int           `json:"end"`
	URI             string        `json:"uri"`
	FirstPageURI    string        `json:"first_page_uri"`
	NextPageURI     *string       `json:"next_page_uri"`
	PreviousPageURI *string       `json:"previous_page_uri"`
}

// rfc2822 is the time format of Twilio's date fields.
const rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// list answers GET Messages.json: the messages filtered by To and From, newest
// first, PageSize at a time (default 50, at most 1000). The next page is named by
// Page and PageToken ("PA" + the sid of the last message shown), as Twilio does, so
// messages taken meanwhile do not shift the pages. DateSent is empty until Twilio
// has sent a message, and this provider never does: a lookup must not filter on it.
func (p *provider) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 50
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":20001,"message":"Invalid PageSize","status":400}`))
			return
		}
		size = min(n, 1000)
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	after := strings.TrimPrefix(q.Get("PageToken"), "PA")
	to, from := q.Get("To"), q.Get("From")

	p.mu.Lock()
	var picked []*providerMessage
	more := false
	skipping := after != ""
	for i := len(p.messages) - 1; i >= 0; i-- {
		m := p.messages[i]
		if skipping {
			if m.SID == after {
				skipping = false
			}
			continue
		}
		if (to != "" && m.To != to) || (from != "" && m.From != from) {
			continue
		}
		if len(picked) == size {
			more = true
			break
		}
		picked = append(picked, m)
	}
	p.mu.Unlock()

	base := p.messagesPath()
	pageURI := func(n int, token string) string {
		v := url.Values{"PageSize": {strconv.Itoa(size)}, "Page": {strconv.Itoa(n)}}
		if to != "" {
			v.Set("To", to)
		}
		if from != "" {
			v.Set("From", from)
		}
		if token != "" {
			v.Set("PageToken", token)
		}
		return base + "?" + v.Encode()
	}
	out := listPage{Messages: make([]listMessage, len(picked)), Page: page, PageSize: size,
		Start: page * size, End: page*size + len(picked) - 1, URI: r.URL.RequestURI(), FirstPageURI: pageURI(0, "")}
	if len(picked) == 0 {
		out.End = out.Start
	}
	for i, m := range picked {
		created := m.Created.UTC().Format(rfc2822)
		out.Messages[i] = listMessage{AccountSID: p.accountSID, APIVersion: "2010-04-01", Body: m.Body,
			DateCreated: created, DateUpdated: created, Direction: "outbound-api", From: m.From,
			NumMedia: strconv.Itoa(m.NumMedia), NumSegments: "1", SID: m.SID, Status: "queued", To: m.To,
			URI: base[:len(base)-len(".json")] + "/" + m.SID + ".json"}
	}
	if more {
		next := pageURI(page+1, "PA"+picked[len(picked)-1].SID)
		out.NextPageURI = &next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
