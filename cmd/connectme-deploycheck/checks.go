package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkWebhookSignature: Twilio signs the URL it was configured with, so a webhook
// signed over PUBLIC_BASE_URL passes through the proxy, and the same webhook signed
// over the instance's own address (what the server would see without
// PUBLIC_BASE_URL) is refused.
func checkWebhookSignature(ctx context.Context, c *client, t *tenant, direct string) error {
	code, body, err := c.inbound(ctx, c.base, t, t.contacts[0].phone, "signed over the public URL", "SMsigpublic")
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("webhook signed over PUBLIC_BASE_URL: %d %s %v", code, body, err)
	}
	code, body, err = c.inbound(ctx, direct, t, t.contacts[0].phone, "signed over the instance URL", "SMsiginstance")
	if err != nil || code != http.StatusForbidden {
		return fmt.Errorf("webhook signed over the instance's address: want 403, got %d %s %v", code, body, err)
	}
	return nil
}

// checkBodyLimits: a 2 MB upload (over nginx's 1 MB default) passes the proxy, and
// a request announcing more than the server's whole-request limit is refused by
// nginx with 413 before any of it is sent on.
func checkBodyLimits(ctx context.Context, c *client, host string, pool *x509.CertPool) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "big.pdf")
	_, _ = fw.Write([]byte("%PDF-1.4\n"))
	_, _ = fw.Write(bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16))
	_ = mw.Close()
	code, body, _, err := c.call(ctx, http.MethodPost, "/media/save", mw.FormDataContentType(), buf.Bytes(), nil)
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("2 MB upload through the proxy: %d %s %v", code, body, err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", host, tlsConfig(pool))
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /media/save HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n",
		host, c.token, 101048576+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("oversized upload: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		return fmt.Errorf("a body of 101048577 bytes: want 413 from nginx, got %d", resp.StatusCode)
	}
	return nil
}

// checkCrossInstance: a subscription held by instance A hears a message sent
// through instance B (the events travel through PostgreSQL's NOTIFY), and sockets
// opened through the proxy hear a message written through the proxy.
func checkCrossInstance(ctx context.Context, c *client, t *tenant, hc *http.Client, directA, directB, public string) error {
	const q = `subscription { messageAdded { id content } }`
	onA, err := subscribe(ctx, "ws"+strings.TrimPrefix(directA, "http")+"/graphql", http.DefaultClient, c.token, q)
	if err != nil {
		return fmt.Errorf("subscribe on instance A: %w", err)
	}
	defer onA.close()
	var viaProxy []*sub
	for range 2 {
		s, err := subscribe(ctx, "wss"+strings.TrimPrefix(public, "https")+"/graphql", hc, c.token, q)
		if err != nil {
			return fmt.Errorf("subscribe through the proxy: %w", err)
		}
		defer s.close()
		viaProxy = append(viaProxy, s)
	}
	// graphql-transport-ws has no "subscribed" answer: give the server a moment to
	// register the subscription before writing.
	time.Sleep(500 * time.Millisecond)
	b := newClient(directB, c.authToken, http.DefaultClient)
	b.token = c.token
	text := fmt.Sprintf("written through B %d", time.Now().UnixNano())
	if code, body, err := b.postJSON(ctx, "/message", map[string]any{"to": t.contacts[0].id, "text": text}, nil); err != nil || code != http.StatusOK {
		return fmt.Errorf("send through instance B: %d %s %v", code, body, err)
	}
	if err := waitEvent(onA, text); err != nil {
		return fmt.Errorf("subscription on instance A: %w", err)
	}
	text = fmt.Sprintf("inbound through the proxy %d", time.Now().UnixNano())
	if code, body, err := c.inbound(ctx, c.base, t, t.contacts[0].phone, text, fmt.Sprintf("SMx%d", time.Now().UnixNano())); err != nil || code != http.StatusCreated {
		return fmt.Errorf("inbound through the proxy: %d %s %v", code, body, err)
	}
	for i, s := range viaProxy {
		if err := waitEvent(s, text); err != nil {
			return fmt.Errorf("socket %d through the proxy: %w", i+1, err)
		}
	}
	return nil
}

// waitEvent waits up to 10 s for a messageAdded event with content text.
func waitEvent(s *sub, text string) error {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case data := <-s.events:
			var ev struct {
				MessageAdded struct {
					Content string `json:"content"`
				} `json:"messageAdded"`
			}
			if json.Unmarshal(data, &ev) == nil && ev.MessageAdded.Content == text {
				return nil
			}
		case <-s.closed:
			return fmt.Errorf("socket closed (%d) before the event %q", s.code, text)
		case <-deadline:
			return fmt.Errorf("no event %q within 10 s", text)
		}
	}
}

// checkRateLimit: the limiter sees each client's own address. The client at
// 127.0.0.2 spends its sign-in budget (on every instance) with wrong passwords,
// stays limited when it writes another address into X-Forwarded-For, while the
// client at 127.0.0.3 still logs in to the same account.
func checkRateLimit(ctx context.Context, public string, pool *x509.CertPool, t *tenant) (string, error) {
	spender := newClient(public, "", httpClient(pool, "127.0.0.2"))
	limited, attempts := 0, 0
	for attempts < 80 && limited < 3 {
		attempts++
		_, code, err := spender.login(ctx, t.email, "wrong-password-1")
		if err != nil {
			return "", fmt.Errorf("login from 127.0.0.2: %w", err)
		}
		switch code {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusForbidden:
			limited = 0
		default:
			return "", fmt.Errorf("wrong password from 127.0.0.2: want 403 or 429, got %d", code)
		}
	}
	if limited < 3 {
		return "", fmt.Errorf("127.0.0.2 was not limited after %d wrong passwords", attempts)
	}
	for range 2 {
		code, body, err := spender.postJSON(ctx, "/auth/login", map[string]string{"email": t.email, "password": t.password},
			http.Header{"X-Forwarded-For": {"127.0.0.3"}})
		if err != nil || code != http.StatusTooManyRequests {
			return "", fmt.Errorf("127.0.0.2 claiming to be 127.0.0.3: want 429, got %d %s %v", code, body, err)
		}
	}
	other := newClient(public, "", httpClient(pool, "127.0.0.3"))
	for range 2 {
		if tok, code, err := other.login(ctx, t.email, t.password); err != nil || tok == "" {
			return "", fmt.Errorf("login from 127.0.0.3 while 127.0.0.2 is limited: %d %v", code, err)
		}
	}
	return fmt.Sprintf("127.0.0.2 limited after %d attempts (429 also with a forged X-Forwarded-For), 127.0.0.3 logs in", attempts-limited), nil
}

// publicURL is base's scheme and host.
func publicURL(port int) string {
	return (&url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", port)}).String()
}
