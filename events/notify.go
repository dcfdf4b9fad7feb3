package events

// notifyHandler is one OnNotify registration.
type notifyHandler struct{ fn func(payload string) }

// OnNotify calls fn with the payload of every NOTIFY on channel that reaches this
// instance, on the listener's goroutine (fn must not block); stop unregisters it.
// Unlike Wake, the payload matters (the ids of revoked sessions). Notifications
// sent while the listener is away are lost: a user that must not miss any reloads
// its state on OnGap.
func (b *Bus) OnNotify(channel string, fn func(payload string)) (stop func()) {
	_, stopWake := b.Wake(channel) // LISTENs to channel
	h := &notifyHandler{fn: fn}
	b.mu.Lock()
	if b.handlers == nil {
		b.handlers = map[string]map[*notifyHandler]struct{}{}
	}
	if b.handlers[channel] == nil {
		b.handlers[channel] = map[*notifyHandler]struct{}{}
	}
	b.handlers[channel][h] = struct{}{}
	b.mu.Unlock()
	return func() {
		stopWake()
		b.mu.Lock()
		delete(b.handlers[channel], h)
		b.mu.Unlock()
	}
}

// handle runs the OnNotify handlers of channel.
func (b *Bus) handle(channel, payload string) {
	b.mu.RLock()
	fns := make([]func(string), 0, len(b.handlers[channel]))
	for h := range b.handlers[channel] {
		fns = append(fns, h.fn)
	}
	b.mu.RUnlock()
	for _, fn := range fns {
		fn(payload)
	}
}
