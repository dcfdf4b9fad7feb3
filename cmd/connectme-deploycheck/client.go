package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/connectme/connectme/twilio"
)

// client calls the API as one client machine would: from its own loopback
// address (127.0.0.2, 127.0.0.3 … are all loopback on Linux), so nginx sees a
// distinct peer and writes it into X-Forwarded-For.
type client struct {
	base      string
	token     string
	authToken string // TWILIO_AUTH_TOKEN, to sign webhook calls
	http      *http.Client
}

// httpClient trusts pool and dials from local (empty: any address).
func httpClient(pool *x509.CertPool, local string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: tlsConfig(pool), MaxIdleConnsPerHost: 32,
		IdleConnTimeout: 30 * time.Second}
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

func newClient(base, authToken string, hc *http.Client) *client {
	return &client{base: base, authToken: authToken, http: hc}
}

// call makes one request; code is 0 when no answer came.
func (c *client) call(ctx context.Context, method, path, contentType string, body []byte, hdr http.Header) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
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
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, resp.Header, err
}

func (c *client) postJSON(ctx context.Context, path string, v any, hdr http.Header) (int, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	code, body, _, err := c.call(ctx, http.MethodPost, path, "application/json", b, hdr)
	return code, body, err
}

// signedForm posts a webhook signed over signBase + path, as Twilio signs the URL
// it was configured with (PUBLIC_BASE_URL).
func (c *client) signedForm(ctx context.Context, signBase, path string, form url.Values) (int, []byte, error) {
	hdr := http.Header{twilio.SignatureHeader: {twilio.Sign(c.authToken, signBase+path, form)}}
	code, body, _, err := c.call(ctx, http.MethodPost, path, "application/x-www-form-urlencoded", []byte(form.Encode()), hdr)
	return code, body, err
}

// login returns a token for email and password, or the status code it got.
func (c *client) login(ctx context.Context, email, password string) (string, int, error) {
	code, body, err := c.postJSON(ctx, "/auth/login", map[string]string{"email": email, "password": password}, nil)
	if err != nil || code != http.StatusOK {
		return "", code, err
	}
	var l struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &l); err != nil || l.AccessToken == "" {
		return "", code, fmt.Errorf("login answer %s: %v", body, err)
	}
	return l.AccessToken, code, nil
}

// tenant is the company the check works in.
type tenant struct {
	email, password string
	number          string
	contacts        []contact
}

type contact struct {
	phone string
	id    int64
}

// setupTenant signs a company up, logs its agent in, and opens a conversation with
// n contacts by a signed inbound message each (which opens the 24-hour window).
func setupTenant(ctx context.Context, c *client, n int) (*tenant, error) {
	t := &tenant{email: "deploy-agent@connectme.local", password: "deploy-password-1",
		number: fmt.Sprintf("+9411%07d", time.Now().UnixNano()%10_000_000)}
	code, body, err := c.postJSON(ctx, "/auth/signup", map[string]string{"firstName": "Deploy", "lastName": "Agent",
		"phone": "+94710000001", "email": t.email, "password": t.password, "companyName": "Deploy Check",
		"whatsappNumber": t.number}, nil)
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("signup: %d %s %v", code, body, err)
	}
	tok, code, err := c.login(ctx, t.email, t.password)
	if err != nil || tok == "" {
		return nil, fmt.Errorf("login: %d %v", code, err)
	}
	c.token = tok
	for i := range n {
		phone := fmt.Sprintf("+9477%07d", i+1)
		if code, body, err := c.inbound(ctx, c.base, t, phone, "hello", fmt.Sprintf("SMsetup%d", i)); err != nil || code != http.StatusCreated {
			return nil, fmt.Errorf("inbound from %s: %d %s %v", phone, code, body, err)
		}
		code, body, err := c.postJSON(ctx, "/message/new-chat", map[string]string{"phone": phone}, nil)
		if err != nil || code != http.StatusCreated {
			return nil, fmt.Errorf("new-chat %s: %d %s %v", phone, code, body, err)
		}
		var nc struct {
			User struct {
				UserID int64 `json:"userId"`
			} `json:"user"`
			ConversationID int64 `json:"conversationId"`
		}
		if err := json.Unmarshal(body, &nc); err != nil || nc.User.UserID == 0 {
			return nil, fmt.Errorf("new-chat answer %s: %v", body, err)
		}
		t.contacts = append(t.contacts, contact{phone: phone, id: nc.User.UserID})
	}
	return t, nil
}

// inbound posts a signed inbound message from phone to the company.
func (c *client) inbound(ctx context.Context, signBase string, t *tenant, phone, body, sid string) (int, []byte, error) {
	form := url.Values{"MessageSid": {sid}, "AccountSid": {"ACdeploy"}, "From": {"whatsapp:" + phone},
		"To": {"whatsapp:" + t.number}, "Body": {body}, "NumMedia": {"0"}, "ProfileName": {"Deploy Customer"}}
	return c.signedForm(ctx, signBase, "/message/messagein", form)
}
