package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connectme/connectme/twilio"
)

// apiClient calls the server's REST API and webhooks as a client and as Twilio do.
type apiClient struct {
	base      string
	token     string
	authToken string // TWILIO_AUTH_TOKEN, to sign webhook calls
	http      *http.Client
}

func newAPIClient(base, authToken string) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &apiClient{base: base, authToken: authToken, http: &http.Client{Timeout: 15 * time.Second, Transport: tr}}
}

// call makes one request; code is 0 when no answer came (timeout, refused, reset).
func (c *apiClient) call(ctx context.Context, method, path, contentType string, body []byte, hdr http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// postJSON posts v as JSON.
func (c *apiClient) postJSON(ctx context.Context, path string, v any) (int, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	return c.call(ctx, http.MethodPost, path, "application/json", b, nil)
}

// signedForm posts a form to a webhook path with Twilio's signature over
// PUBLIC_BASE_URL + path and the parameters.
func (c *apiClient) signedForm(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	hdr := http.Header{twilio.SignatureHeader: {twilio.Sign(c.authToken, c.base+path, form)}}
	return c.call(ctx, http.MethodPost, path, "application/x-www-form-urlencoded", []byte(form.Encode()), hdr)
}

// tenant is the company an experiment works in: one agent, some contacts whose
// 24-hour windows are open.
type tenant struct {
	number   string // the company's WhatsApp number
	contacts []contact
}

// contact is a customer the agent writes to.
type contact struct {
	phone string
	id    int64 // userId, the "to" of POST /message
}

// setupTenant signs up a company, logs its agent in, and opens a conversation
// with each of n contacts by an inbound message (which opens the window).
func setupTenant(ctx context.Context, c *apiClient, name string, n int) (*tenant, error) {
	t := &tenant{number: "+9411" + fmt.Sprintf("%07d", time.Now().UnixNano()%10_000_000)}
	email := "chaos-" + name + "@connectme.local"
	code, body, err := c.postJSON(ctx, "/auth/signup", map[string]string{
		"firstName": "Chaos", "lastName": "Agent", "phone": "+94710000001", "email": email,
		"password": "chaos-password-1", "companyName": "Chaos " + name, "whatsappNumber": t.number,
	})
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("signup: %d %s %v", code, body, err)
	}
	code, body, err = c.postJSON(ctx, "/auth/login", map[string]string{"email": email, "password": "chaos-password-1"})
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("login: %d %s %v", code, body, err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &login); err != nil || login.AccessToken == "" {
		return nil, fmt.Errorf("login answer %s: %v", body, err)
	}
	c.token = login.AccessToken
	for i := range n {
		phone := fmt.Sprintf("+9477%07d", i+1)
		if code, body, err := c.inbound(ctx, t, phone, "hello from "+phone, fmt.Sprintf("SMhello%s%d", name, i)); err != nil || code != http.StatusCreated {
			return nil, fmt.Errorf("inbound from %s: %d %s %v", phone, code, body, err)
		}
		code, body, err := c.postJSON(ctx, "/message/new-chat", map[string]string{"phone": phone})
		if err != nil || code != http.StatusCreated {
			return nil, fmt.Errorf("new-chat %s: %d %s %v", phone, code, body, err)
		}
		var nc struct {
			User struct {
				UserID int64 `json:"userId"`
			} `json:"user"`
		}
		if err := json.Unmarshal(body, &nc); err != nil || nc.User.UserID == 0 {
			return nil, fmt.Errorf("new-chat answer %s: %v", body, err)
		}
		t.contacts = append(t.contacts, contact{phone: phone, id: nc.User.UserID})
	}
	return t, nil
}

// inbound posts a signed inbound message from phone to the company.
func (c *apiClient) inbound(ctx context.Context, t *tenant, phone, body, sid string) (int, []byte, error) {
	form := url.Values{"MessageSid": {sid}, "AccountSid": {"ACchaos"}, "From": {"whatsapp:" + phone},
		"To": {"whatsapp:" + t.number}, "Body": {body}, "NumMedia": {"0"}, "ProfileName": {"Chaos Customer"}}
	return c.signedForm(ctx, "/message/messagein", form)
}

// send is POST /message with free text to a contact.
func (c *apiClient) send(ctx context.Context, to contact, text string) (int, error) {
	code, _, err := c.postJSON(ctx, "/message", map[string]any{"to": to.id, "text": text})
	return code, err
}

// sidSafe turns a body into a MessageSid-shaped suffix.
func sidSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
