package testkit

import (
	"context"

	"github.com/connectme/connectme/twilio"
)

// ProviderFunc is a messaging provider made of a function, for tests that decide
// what the provider answers (and when): NewAppWith(t, With{Provider: ...}).
type ProviderFunc func(ctx context.Context, m *twilio.Message) (*twilio.Result, error)

// Send calls f.
func (f ProviderFunc) Send(ctx context.Context, m *twilio.Message) (*twilio.Result, error) {
	return f(ctx, m)
}
