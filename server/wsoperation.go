package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/connectme/connectme/resolvers"
)

// The operations of a socket (wsprotocol.go): each subscribe (start) message's
// query, mutation or subscription, from its start to its complete.

// wsOperation is one running operation of a socket. A subscription's runs only
// when it has something to send: pending counts the responses ready to be read
// (one per event, one for the end), and whoever raises it from zero runs them.
type wsOperation struct {
	s         *socket
	id        string
	ctx       context.Context
	cancel    context.CancelFunc
	rc        *graphql.OperationContext
	responses graphql.ResponseHandler
	pending   atomic.Int32
	done      atomic.Bool
	// stopGap ends the subscription's registration for the event listener's
	// gaps (start); nil for queries and mutations.
	stopGap func()
}

// start runs a subscribe (start) message's operation.
func (s *socket) start(exec graphql.GraphExecutor, m wsMessage, readStart time.Time) {
	s.mu.Lock()
	_, dup := s.ops[m.ID]
	s.mu.Unlock()
	if dup {
		if s.legacy {
			// graphql-ws has no close code for it: refuse the operation alone.
			s.send(msgError, m.ID, []*gqlerror.Error{{Message: fmt.Sprintf("operation id %s is already in use", m.ID)}})
			return
		}
		s.close(closeDuplicateID, fmt.Sprintf("Subscriber for %s already exists", m.ID))
		return
	}
	ctx := graphql.StartOperationTrace(s.ctx)
	params := &graphql.RawParams{}
	if err := json.Unmarshal(m.Payload, params); err != nil {
		s.send(msgError, m.ID, []*gqlerror.Error{{Message: "invalid json"}})
		s.send(msgComplete, m.ID, nil)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: readStart, End: graphql.Now()}
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			s.send(msgError, m.ID, resp.Errors)
		} else {
			s.sendResponse(m.ID, &graphql.Response{Errors: errs})
		}
		s.send(msgComplete, m.ID, nil)
		return
	}
	op := &wsOperation{s: s, id: m.ID, rc: rc}
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription && s.onGap != nil {
		// Before the resolver attaches to the bus: a subscription that attaches
		// during an outage is told of it too. A subscription that can resume
		// (events(after:)) opts out once its resolver says so (resolvers.Stream),
		// and replays instead of ending the socket.
		op.stopGap = s.onGap(s.eventsMissed)
	}
	ctx, op.cancel = context.WithCancel(graphql.WithOperationContext(ctx, rc))
	// The starter holds one count until the operation is set up: a Ready before
	// then waits for it.
	op.pending.Store(1)
	st := &resolvers.Stream{Ready: op.ready}
	s.mu.Lock()
	if s.ops == nil {
		s.ops = map[string]*wsOperation{}
	}
	s.ops[m.ID] = op
	s.mu.Unlock()
	if !op.guard(func() {
		op.responses, op.ctx = exec.DispatchOperation(resolvers.WithStream(ctx, st), rc)
	}) {
		return
	}
	if st.Resumable() && op.stopGap != nil {
		// It replays what a gap loses from the event log: no 4503 for it.
		op.stopGap()
		op.stopGap = nil
	}
	if !st.Attached() {
		// A query, a mutation, or a subscription that failed: run it to its end.
		go op.runAll()
		return
	}
	if op.pending.Add(-1) > 0 {
		go op.run()
	}
}

// ready is resolvers.Stream's Ready: one more response can be read.
func (op *wsOperation) ready() {
	if op.pending.Add(1) == 1 {
		go op.run()
	}
}

// run reads the responses that are ready, in order, until none is left.
func (op *wsOperation) run() {
	for {
		if !op.next() {
			return
		}
		if op.pending.Add(-1) == 0 {
			return
		}
	}
}

// runAll reads responses until the operation ends.
func (op *wsOperation) runAll() {
	for op.next() {
	}
}

// next reads and sends one response; false when the operation has ended.
func (op *wsOperation) next() bool {
	if op.done.Load() {
		return false
	}
	var resp *graphql.Response
	if !op.guard(func() { resp = op.responses(op.ctx) }) {
		return false
	}
	if resp == nil {
		op.end(true)
		return false
	}
	op.s.sendResponse(op.id, resp)
	return true
}

// guard runs fn, turning a panic into the operation's error and end.
func (op *wsOperation) guard(fn func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			err := op.rc.Recover(op.s.ctx, r)
			var gqlErr *gqlerror.Error
			if !errors.As(err, &gqlErr) {
				gqlErr = &gqlerror.Error{}
				if err != nil {
					gqlErr.Message = err.Error()
				}
			}
			op.s.send(msgError, op.id, []*gqlerror.Error{gqlErr})
			op.end(false)
			ok = false
		}
	}()
	fn()
	return true
}

// end removes the operation; complete tells the client, unless the socket is
// ending (its close says it all).
func (op *wsOperation) end(complete bool) {
	if op.done.Swap(true) {
		return
	}
	s := op.s
	s.mu.Lock()
	if s.ops[op.id] == op {
		delete(s.ops, op.id)
	}
	s.mu.Unlock()
	if op.stopGap != nil {
		op.stopGap()
	}
	op.cancel()
	if complete && s.ctx.Err() == nil && !s.isClosing() {
		s.send(msgComplete, op.id, nil)
	}
}

// stop cancels an operation at the client's request; its subscription then
// closes its channel, and the operation ends with a complete.
func (s *socket) stop(id string) {
	s.mu.Lock()
	op := s.ops[id]
	s.mu.Unlock()
	if op != nil {
		op.cancel()
	}
}

func (s *socket) sendResponse(id string, resp *graphql.Response) {
	typ := msgNext
	if s.legacy {
		typ = msgData
	}
	s.send(typ, id, resp)
}
