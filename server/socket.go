package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// wsBufferSize is the size of a socket's read and write buffers. GraphQL events and
// client frames are a few hundred bytes; larger ones bypass the buffer.
const wsBufferSize = 1 << 10

type socketKey struct{}

// socket is one accepted websocket as gqlgen's transport sees it. It also keeps the
// connection alive with a timer rather than a goroutine per socket: a ping
// (graphql-transport-ws, which must be answered with a pong within the next
// interval) or a "ka" (graphql-ws) every interval.
type socket struct {
	conn *websocket.Conn

	mu        sync.Mutex
	interval  time.Duration
	timer     *time.Timer // the next keep-alive
	awaiting  bool        // a ping went out and no pong came back yet
	deadline  *time.Timer // SetReadDeadline's
	closing   bool
	handshake bool // WriteClose started the close handshake
}

var (
	_ transport.WebsocketConn          = (*socket)(nil)
	_ transport.WebsocketReadLimiter   = (*socket)(nil)
	_ transport.WebsocketReadDeadliner = (*socket)(nil)
)

// keepAlive starts the keep-alive messages, once the connection is initialised.
func (s *socket) keepAlive(interval time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.timer != nil {
		return
	}
	s.interval = interval
	s.timer = time.AfterFunc(interval, s.tick)
}

var (
	pingFrame = []byte(`{"type":"ping"}`)
	kaFrame   = []byte(`{"type":"ka"}`)
)

func (s *socket) tick() {
	pings := s.conn.Subprotocol() == "graphql-transport-ws"
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	if s.awaiting {
		// No pong for a whole interval: the peer is gone.
		s.mu.Unlock()
		_ = s.conn.CloseNow()
		return
	}
	s.awaiting = pings
	s.timer.Reset(s.interval)
	s.mu.Unlock()
	frame := kaFrame
	if pings {
		frame = pingFrame
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.interval)
	defer cancel()
	_ = s.conn.Write(ctx, websocket.MessageText, frame)
}

// NextReader implements transport.WebsocketConn.
func (s *socket) NextReader() (int, io.Reader, error) {
	typ, data, err := s.conn.Read(context.Background())
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

// WriteJSON implements transport.WebsocketConn.
func (s *socket) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.conn.Write(context.Background(), websocket.MessageText, data)
}

// WriteClose implements transport.WebsocketConn. The close handshake waits up to
// five seconds for the peer's answer, so it runs in the background (as gqlgen's own
// adapter does).
func (s *socket) WriteClose(code int, reason string) error {
	s.mu.Lock()
	s.stopLocked()
	if s.handshake {
		s.mu.Unlock()
		return nil
	}
	s.handshake = true
	s.mu.Unlock()
	go func() { _ = s.conn.Close(websocket.StatusCode(code), reason) }()
	return nil
}

// Close implements transport.WebsocketConn. A close handshake under way owns the
// connection: closing it now would cut the close frame off.
func (s *socket) Close() error {
	s.mu.Lock()
	s.stopLocked()
	handshake := s.handshake
	s.mu.Unlock()
	if handshake {
		return nil
	}
	return s.conn.CloseNow()
}

func (s *socket) stopLocked() {
	s.closing = true
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.deadline != nil {
		s.deadline.Stop()
	}
}

// Subprotocol implements transport.WebsocketConn.
func (s *socket) Subprotocol() string { return s.conn.Subprotocol() }

// SetReadLimit implements transport.WebsocketReadLimiter.
func (s *socket) SetReadLimit(limit int64) { s.conn.SetReadLimit(limit) }

// SetReadDeadline implements transport.WebsocketReadDeadliner. gqlgen clears the
// deadline when a pong arrives, which is what keepAlive waits for.
func (s *socket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deadline != nil {
		s.deadline.Stop()
		s.deadline = nil
	}
	if t.IsZero() {
		s.awaiting = false
		return nil
	}
	s.deadline = time.AfterFunc(time.Until(t), func() { _ = s.conn.CloseNow() })
	return nil
}

// acceptedSockets hands gqlgen's transport the socket serveWebsocket accepted.
type acceptedSockets struct{}

// Accept implements transport.WebsocketImplementation.
func (acceptedSockets) Accept(_ http.ResponseWriter, r *http.Request, _ transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	s, ok := r.Context().Value(socketKey{}).(*socket)
	if !ok {
		return nil, errors.New("websocket: not accepted by serveWebsocket")
	}
	return s, nil
}

// smallBuffers hands coder/websocket, which keeps the hijacked connection's
// buffers for the socket's life, small ones instead of net/http's 4 KB pair.
type smallBuffers struct{ http.ResponseWriter }

// Hijack implements http.Hijacker.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, wsBufferSize)
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes of the client's first frame that net/http has read already (its
		// background read of the next request takes one). They must be in the new
		// buffer, not behind it: the websocket library resets the reader onto the
		// connection, keeping only what is buffered.
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(n, wsBufferSize))
		if _, err := br.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, wsBufferSize)), nil
}
