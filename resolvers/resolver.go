// Package resolvers is CONNECTME's business layer, shared by both surfaces: every
// operation is one function over plain inputs that returns domain values (the db
// types), and every rule (tenancy, page limits, the 24-hour window, templates, status
// order) lives here once.
//
//   - lists (messages.go, conversations.go, contacts.go) take a PageRequest (a
//     cursor window of keyset positions, or an offset page) and options saying
//     whether to count the total and what to prefetch; they answer a Page. paging.go
//     validates every page request, prefetch.go fills the request's loaders
//     (loaders.go) with what a list brought along;
//   - sending.go, inbound.go, media.go, accounts.go, templates.go and
//     subscriptions.go are the other use cases.
//
// The transports are elsewhere and hold no rule: the GraphQL adapter
// (resolvers/gql: gqlgen's resolvers, Relay connections and cursors, look-ahead,
// error presentation) and the legacy REST layer (package rest: legacy inputs and
// shapes). Nothing here imports the generated GraphQL models or reads a selection.
package resolvers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/events"
	"github.com/connectme/connectme/media"
	"github.com/connectme/connectme/metrics"
	"github.com/connectme/connectme/ratelimit"
)

// Resolver carries the dependencies of the business layer. main builds one and
// passes it down; the GraphQL adapter (resolvers/gql) and the REST layer hold it.
type Resolver struct {
	DB     *bun.DB
	Tokens *auth.Tokens
	// Now is the clock; tests set it to cross the 24-hour edge.
	Now func() time.Time
	Log *slog.Logger
	// AuthLimiter limits login and signup attempts per client address and email.
	AuthLimiter *ratelimit.Limiter
	// AuthAddrLimiter limits login and signup attempts per client address, whatever
	// the email (password spraying); nil allows all.
	AuthAddrLimiter *ratelimit.Limiter
	// Bus delivers events to this instance's subscriptions.
	Bus *events.Bus
	// Contents lists the provider's templates for syncTemplates; nil when no
	// credentials are configured (the sync is then UNAVAILABLE).
	Contents ContentSource

	events eventObjects
	// Media stores uploaded and inbound files and signs links to them.
	Media *media.Store
	// EventRetention is how long the event log keeps events; 0 is DefaultEventRetention.
	EventRetention time.Duration
	// Metrics counts the messages queued for delivery; nil counts nothing.
	Metrics *metrics.Metrics
	// Webhooks posts outgoing webhooks (webhooks.go).
	Webhooks *Webhooks
}

// now returns the current time in UTC from the Resolver's clock, at PostgreSQL's
// microsecond precision, so a time kept in memory equals the one stored (cursors
// made from either agree).
func (r *Resolver) now() time.Time {
	t := time.Now()
	if r.Now != nil {
		t = r.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Caller returns the authenticated caller, or UNAUTHENTICATED.
func Caller(ctx context.Context) (*auth.Principal, error) { return principal(ctx) }

// principal returns the caller, or UNAUTHENTICATED.
func principal(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, apperr.New(apperr.Unauthenticated, "Unauthorized")
	}
	return p, nil
}

// allowAuthAttempt applies AUTH_RATE_LIMIT_PER_ADDR to the client address and
// AUTH_RATE_LIMIT to the address and email. The email part of the key is a hash of
// the normalised email (the form the lookup uses), so neither case, spaces nor
// invisible characters make a fresh key, and a huge email costs no memory. The
// address budget is checked first, so a refused attempt uses up no email budget.
func (r *Resolver) allowAuthAttempt(ctx context.Context, email string) error {
	addr := rateLimitAddr(auth.ClientAddr(ctx))
	if ok, retry := r.AuthAddrLimiter.Allow(addr); !ok {
		return rateLimited(retry)
	}
	sum := sha256.Sum256([]byte(normalEmail(email)))
	if ok, retry := r.AuthLimiter.Allow(addr + "|" + hex.EncodeToString(sum[:16])); !ok {
		return rateLimited(retry)
	}
	return nil
}

// rateLimited is the RATE_LIMITED error of an attempt allowed again after retry.
func rateLimited(retry time.Duration) error {
	e := &apperr.Error{Code: apperr.RateLimited, RetryAfter: retry}
	e.Message = fmt.Sprintf("Too many attempts; try again in %d seconds", e.RetryAfterSeconds())
	return e
}

// rateLimitAddr is the part of a client address a budget belongs to: an IPv6
// client's /64, since one subscriber is routinely given a whole /64 and could
// otherwise take a fresh address, and budget, for every attempt.
func rateLimitAddr(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() || a.Is4In6() {
		return addr
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
