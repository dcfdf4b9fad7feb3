package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connectme/connectme/twilio"
)

// uniq numbers provider ids and texts, so that no two requests of a run (reruns for
// profiling included) carry the same one.
var uniq atomic.Int64

// resetDataset removes what earlier runs added to a generated dataset (messages,
// contacts, conversations, deliveries) and puts the conversations' times and
// workflow (inbound messages reopen conversations) back, so
// every run starts from the same data.
func resetDataset(ctx context.Context, t *target) error {
	_, err := t.bdb.ExecContext(ctx, `DELETE FROM deliveries;
		DELETE FROM early_statuses;
		DELETE FROM messages WHERE created_at > (SELECT generated_at FROM bench_meta);
		DELETE FROM conversations WHERE created_at > (SELECT generated_at FROM bench_meta);
		DELETE FROM users WHERE created_at > (SELECT generated_at FROM bench_meta);
		UPDATE conversations c SET last_update_time = b.last_update_time, last_free_message_time = b.last_free_message_time,
			status = b.status, snoozed_until = b.snoozed_until, assignee_id = b.assignee_id
		FROM bench_conv_times b WHERE b.id = c.id AND (c.last_update_time IS DISTINCT FROM b.last_update_time
			OR c.last_free_message_time IS DISTINCT FROM b.last_free_message_time
			OR (c.status, c.snoozed_until, c.assignee_id) IS DISTINCT FROM (b.status, b.snoozed_until, b.assignee_id))`)
	if err != nil {
		return fmt.Errorf("reset dataset: %w", err)
	}
	return vacuum(ctx, t)
}

// vacuum removes dead rows and refreshes the statistics of the whole database, as
// autovacuum would between a production's bursts of writes. It is off on this
// machine, and the reset's and the write scenarios' updates of conversations
// leave dead versions behind in every table their triggers write. The reset used
// to vacuum a list of tables that missed the label rows and the company counters:
// 57,592 dead label rows (3.6 per live one) piled up over the runs, and the label
// filter's index walk visited them (42 heap fetches for a page of 21).
func vacuum(ctx context.Context, t *target) error {
	_, err := t.bdb.ExecContext(ctx, "VACUUM (ANALYZE)")
	return err
}

// inboundSender is a phone number that writes to a company.
type inboundSender struct {
	phone, name string
	company     int
}

// inboundSenders returns 1,000 contacts' numbers (fewer in small datasets), spread
// over the companies.
func (t *target) inboundSenders(ctx context.Context) ([]inboundSender, error) {
	var rows []struct {
		Phone     string `bun:"phone"`
		FirstName string `bun:"first_name"`
		CompanyID int    `bun:"company_id"`
	}
	err := t.bdb.NewRaw(`SELECT phone, first_name, company_id FROM users WHERE kind = 'CONTACT'
		ORDER BY md5(id::text) LIMIT 1000`).Scan(ctx, &rows)
	out := make([]inboundSender, len(rows))
	for i, r := range rows {
		out[i] = inboundSender{phone: r.Phone, name: r.FirstName, company: r.CompanyID}
	}
	return out, err
}

// webhook returns the inbound scenario: Twilio's form post with a unique MessageSid,
// signed with the auth token as Twilio signs it. run makes the ids unique per run.
func (t *target) webhook(senders []inboundSender, authToken, run string) attempt {
	return func(ctx context.Context, w *worker) error {
		s := senders[w.rng.IntN(len(senders))]
		sid := fmt.Sprintf("SM%s%012d", run, uniq.Add(1))
		_, err := t.postInbound(ctx, w, authToken, inboundForm(sid, s, "bench inbound "+sid))
		return err
	}
}

func inboundForm(sid string, s inboundSender, body string) url.Values {
	return url.Values{
		"MessageSid":  {sid},
		"SmsSid":      {sid},
		"AccountSid":  {"ACbench"},
		"From":        {"whatsapp:" + s.phone},
		"To":          {companyNumber(s.company)},
		"Body":        {body},
		"NumMedia":    {"0"},
		"ProfileName": {s.name},
		"WaId":        {strings.TrimPrefix(s.phone, "+")},
	}
}

// postInbound posts a signed inbound webhook and checks the 201.
func (t *target) postInbound(ctx context.Context, w *worker, authToken string, form url.Values) (string, error) {
	sig := twilio.Sign(authToken, t.srv.base+"/message/messagein", form)
	status, raw, err := t.http.do(ctx, &w.buf, "POST", "/message/messagein", "application/x-www-form-urlencoded",
		[]byte(form.Encode()), twilio.SignatureHeader, sig)
	if err := expect(status, http.StatusCreated, raw, err); err != nil {
		return "", err
	}
	var out struct {
		MessageID string `json:"messageId"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Duplicate || out.MessageID == "" {
		return "", fmt.Errorf("inbound answer %.200s", raw)
	}
	return out.MessageID, nil
}

// checkWebhook sends one inbound message and finds it stored for the right company
// and contact; a call with a wrong signature must be refused.
func (t *target) checkWebhook(ctx context.Context, senders []inboundSender, authToken, run string) error {
	w := &worker{}
	s := senders[0]
	sid := "SM" + run + "check"
	id, err := t.postInbound(ctx, w, authToken, inboundForm(sid, s, "bench inbound check"))
	if err != nil {
		return fmt.Errorf("inbound webhook: %w", err)
	}
	var row struct {
		Company   int    `bun:"company_id"`
		Direction string `bun:"direction"`
		Phone     string `bun:"phone"`
		Content   string `bun:"content"`
		Open      bool   `bun:"open"`
	}
	err = t.bdb.NewRaw(`SELECT m.company_id, m.direction, u.phone, m.content,
			c.last_free_message_time = m.datetime AS open
		FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = c.user_id
		WHERE m.id = ? AND m.provider_sid = ?`, id, sid).Scan(ctx, &row)
	if err != nil {
		return fmt.Errorf("inbound webhook: stored message %s not found: %w", id, err)
	}
	if row.Company != s.company || row.Direction != "RECEIVED" || row.Phone != s.phone || row.Content != "bench inbound check" || !row.Open {
		return fmt.Errorf("inbound webhook: stored %+v for sender %+v", row, s)
	}
	form := inboundForm("SM"+run+"forged", s, "forged")
	status, raw, err := t.http.do(ctx, &w.buf, "POST", "/message/messagein", "application/x-www-form-urlencoded",
		[]byte(form.Encode()), twilio.SignatureHeader, twilio.Sign("wrong-token", t.srv.base+"/message/messagein", form))
	return expect(status, http.StatusForbidden, raw, err)
}

// recipient is a contact whose conversation's window is open.
type recipient struct {
	contact int64
	company int
}

// openWindows makes n WhatsApp conversations per company writable: each gets an
// inbound message an hour ago, which opens its 24-hour window, and its times follow
// (the dataset stays consistent). The rows go at the next reset.
func (t *target) openWindows(ctx context.Context, perCompany int) ([][]recipient, error) {
	var rows []struct {
		UserID    int64 `bun:"user_id"`
		CompanyID int   `bun:"company_id"`
	}
	err := t.bdb.NewRaw(`WITH pick AS (
			SELECT id, company_id, user_id FROM (
				SELECT id, company_id, user_id, row_number() OVER (PARTITION BY company_id ORDER BY md5(id::text)) AS n
				FROM conversations WHERE channel_id = 1) x
			WHERE n <= ?
		), msg AS (
			INSERT INTO messages (id, company_id, conversation_id, sender_id, direction, content, datetime, status, created_at)
			SELECT gen_random_uuid(), company_id, id, user_id, 'RECEIVED', 'window opener', now() - interval '1 hour', 'READ', now()
			FROM pick
		), conv AS (
			UPDATE conversations c SET last_free_message_time = now() - interval '1 hour',
				last_update_time = greatest(c.last_update_time, now() - interval '1 hour')
			FROM pick WHERE pick.id = c.id
		)
		SELECT user_id, company_id FROM pick`, perCompany).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("open windows: %w", err)
	}
	out := make([][]recipient, t.sizes.Companies)
	for _, r := range rows {
		out[r.CompanyID-1] = append(out[r.CompanyID-1], recipient{contact: r.UserID, company: r.CompanyID})
	}
	return out, nil
}

// sendLog records when each sent text was answered.
type sendLog struct {
	mu       sync.Mutex
	answered map[string]time.Time
}

// send returns the sending scenario: POST /message with a unique text to a contact
// whose window is open. The answer comes after the commit (it is the conversation's
// first page), so its time stands for the commit time.
func (t *target) send(recipients [][]recipient, run string, log *sendLog) attempt {
	return func(ctx context.Context, w *worker) error {
		c := w.id % t.sizes.Companies
		r := recipients[c][w.rng.IntN(len(recipients[c]))]
		text := fmt.Sprintf("bench send %s %d", run, uniq.Add(1))
		body := `{"to":` + strconv.FormatInt(r.contact, 10) + `,"text":"` + text + `"}`
		status, raw, err := t.http.do(ctx, &w.buf, "POST", "/message", "application/json", []byte(body),
			"Authorization", "Bearer "+t.tokens[c])
		at := time.Now()
		if err := expect(status, http.StatusOK, raw, err); err != nil {
			return err
		}
		log.mu.Lock()
		log.answered[text] = at
		log.mu.Unlock()
		return nil
	}
}

// checkSend sends one message and checks the answer and what reaches the provider.
func (t *target) checkSend(ctx context.Context, recipients [][]recipient, p *fakeProvider, run string) error {
	w := &worker{}
	r := recipients[0][0]
	text := "bench send check " + run
	body, _ := json.Marshal(map[string]any{"to": r.contact, "text": text})
	status, raw, err := t.http.do(ctx, &w.buf, "POST", "/message", "application/json", body, "Authorization", "Bearer "+t.tokens[0])
	if err := expect(status, http.StatusOK, raw, err); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var page struct {
		Data []struct {
			Content   string `json:"content"`
			Direction string `json:"direction"`
			Status    string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &page); err != nil || len(page.Data) == 0 || page.Data[0].Content != text ||
		page.Data[0].Direction != "SENT" {
		return fmt.Errorf("send: answer's first message is not the one sent: %.300s", raw)
	}
	a, ok := p.wait(text, 10*time.Second)
	if !ok {
		n, last := p.refused()
		return fmt.Errorf("send: the provider did not get the message within 10 s (it refused %d calls, last %s)", n, last)
	}
	var phone string
	if err := t.bdb.NewRaw("SELECT phone FROM users WHERE id = ?", r.contact).Scan(ctx, &phone); err != nil {
		return err
	}
	if a.From != companyNumber(1) || a.To != "whatsapp:"+phone {
		return fmt.Errorf("send: provider got From %q To %q, want %q and whatsapp:%s", a.From, a.To, companyNumber(1), phone)
	}
	return nil
}

// deliveryLatencies waits until every answered text reached the provider (or the
// timeout) and returns the commit-to-provider delays, sorted, and how many never
// arrived.
func deliveryLatencies(log *sendLog, p *fakeProvider, timeout time.Duration) ([]time.Duration, int) {
	log.mu.Lock()
	texts := make(map[string]time.Time, len(log.answered))
	for k, v := range log.answered {
		texts[k] = v
	}
	log.mu.Unlock()
	deadline := time.Now().Add(timeout)
	var lat []time.Duration
	missing := 0
	for text, at := range texts {
		a, ok := p.wait(text, max(time.Until(deadline), time.Millisecond))
		if !ok {
			missing++
			continue
		}
		lat = append(lat, max(0, a.At.Sub(at)))
	}
	slices.Sort(lat)
	return lat, missing
}

// waitOutboxEmpty waits until the delivery outbox has nothing left to send.
func (t *target) waitOutboxEmpty(ctx context.Context, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		var n int
		if err := t.bdb.NewRaw("SELECT count(*) FROM deliveries").Scan(ctx, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the outbox still holds %d deliveries after %s", n, timeout)
		}
	}
}
