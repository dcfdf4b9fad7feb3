package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Sizes of a socket's read and write buffers. Client frames (init, subscribe, pong)
// and GraphQL events are a few hundred bytes; larger ones bypass the buffer.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 1 << 10
)

type socketKey struct{}

// socket is one accepted websocket: the connection, its protocol state and its
// running operations (wsprotocol.go). Only its read loop has a goroutine; the
// keep-alive is a timer, and operations run when they have something to send.
type socket struct {
	conn   *websocket.Conn
	legacy bool // graphql-ws (subscriptions-transport-ws) rather than graphql-transport-ws
	log    *slog.Logger
	// onGap registers a subscription for the event listener's gaps (wsTransport).
	onGap func(fn func()) (stop func())

	// ctx is the connection's, from connection_init on: the agent, and the end of
	// its token; it is cancelled when the socket ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	ops      map[string]*wsOperation
	interval time.Duration
	timer    *time.Timer // the next keep-alive
	awaiting bool        // a ping went out and no pong came back yet
	closing  bool        // the close handshake has started

	served  atomic.Bool // the transport has taken the socket
	endOnce sync.Once
	ended   func()   // called once when the socket has ended
	atEnd   []func() // added by onEnd, under mu
}

// end releases the socket, once.
func (s *socket) end() {
	s.endOnce.Do(func() {
		s.release()
		if s.ended != nil {
			s.ended()
		}
		s.mu.Lock()
		fns := s.atEnd
		s.atEnd = nil
		s.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	})
}

// onEnd runs fn when the socket ends (connection_init's per-agent count).
func (s *socket) onEnd(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atEnd = append(s.atEnd, fn)
}

// send writes one protocol message.
func (s *socket) send(typ, id string, payload any) {
	m := wsMessage{ID: id, Type: typ}
	if raw, ok := payload.(json.RawMessage); ok {
		m.Payload = raw
	} else if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return
		}
		m.Payload = b
	}
	b, _ := json.Marshal(m)
	_ = s.conn.Write(context.Background(), websocket.MessageText, b)
}

// keepAlive starts the keep-alive messages, once the connection is initialised: a
// ping (graphql-transport-ws), which must be answered with a pong within the next
// interval, or a "ka" (graphql-ws) every interval.
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
	s.awaiting = !s.legacy
	s.timer.Reset(s.interval)
	s.mu.Unlock()
	frame := pingFrame
	if s.legacy {
		frame = kaFrame
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.interval)
	defer cancel()
	_ = s.conn.Write(ctx, websocket.MessageText, frame)
}

// pong notes the client's answer to a ping.
func (s *socket) pong() {
	s.mu.Lock()
	s.awaiting = false
	s.mu.Unlock()
}

// close ends the socket with a close frame. The close handshake waits up to five
// seconds for the peer's answer, so it runs in the background.
func (s *socket) close(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	go func() { _ = s.conn.Close(code, reason) }()
}

// eventsMissed ends the socket because the event listener may have lost events its
// subscriptions were waiting for (a database outage): the client learns it must
// refetch, and resubscribes on a new socket. It runs on the listener's goroutine,
// and close does not block.
func (s *socket) eventsMissed() {
	s.close(closeEventsMissed, "events missed")
}

// isClosing reports whether the close handshake has started: nothing else is
// worth sending then.
func (s *socket) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// release closes the connection once its protocol has ended, unless a close
// handshake owns it.
func (s *socket) release() {
	s.mu.Lock()
	closing := s.closing
	s.closing = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	if !closing {
		_ = s.conn.CloseNow()
	}
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
	br := bufio.NewReaderSize(conn, wsReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes of the client's first frame that net/http has read already (its
		// background read of the next request takes one). They must be in the new
		// buffer, not behind it: the websocket library resets the reader onto the
		// connection, keeping only what is buffered.
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(n, wsReadBuffer))
		if _, err := br.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, wsWriteBuffer)), nil
}
