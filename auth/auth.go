// Package auth issues and checks agents' JWT bearer tokens, hashes passwords and
// carries the authenticated principal through a request's context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/crypto/bcrypt"
)

// Principal is who is calling: an agent of one company.
type Principal struct {
	UserID    int64
	CompanyID int64
	Role      string
	ExpiresAt time.Time
	// SessionID is the session the token belongs to ("" for tokens made without
	// one, which cannot be revoked and only tests and tools make).
	SessionID string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil when it is anonymous.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ErrInvalidToken is returned for any token that must not be accepted; the two
// below wrap it, so that errors.Is(err, ErrInvalidToken) holds for every refusal.
var ErrInvalidToken = errors.New("invalid token")

// ErrTokenExpired is a genuine token (our signature) whose exp has passed: the
// client refreshes its session.
var ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)

// ErrSessionEnded is a genuine, unexpired token of a session that has ended: the
// client signs in again.
var ErrSessionEnded = fmt.Errorf("%w: session ended", ErrInvalidToken)

// The reasons a refused token gives clients (GraphQL extensions.reason).
const (
	ReasonTokenExpired = "TOKEN_EXPIRED"
	ReasonSessionEnded = "SESSION_ENDED"
	ReasonTokenInvalid = "TOKEN_INVALID"
)

// Reason is the client-facing reason of a Parse error.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTokenExpired):
		return ReasonTokenExpired
	case errors.Is(err, ErrSessionEnded):
		return ReasonSessionEnded
	}
	return ReasonTokenInvalid
}

type refusalKey struct{}

// WithRefusal returns ctx noting why the request's bearer token was refused (a
// Reason), so that an UNAUTHENTICATED answer can tell the client what to do.
func WithRefusal(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, refusalKey{}, reason)
}

// Refusal returns why the request's bearer token was refused, or "" when it carried
// none or a valid one.
func Refusal(ctx context.Context) string {
	s, _ := ctx.Value(refusalKey{}).(string)
	return s
}

// Tokens signs and verifies HS256 tokens with one secret.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	// Revoked, when set, refuses the tokens of ended sessions (an in-memory
	// lookup, no database round trip).
	Revoked *Revocations
	// verified remembers the tokens that passed Parse's checks, by their text, with
	// what they say; validator runs the time checks (exp, iat) again on each use.
	verified  *lru.Cache[string, *verifiedToken]
	validator *jwt.Validator
}

// verifiedTokens bounds the tokens Parse remembers: an agent has one at a time
// (more while its session is refreshed), so this covers thousands of agents per
// instance in a few MiB.
const verifiedTokens = 8192

// verifiedToken is a token whose signature and claims Parse checked.
type verifiedToken struct {
	claims claims
	userID int64
}

// NewTokens returns a Tokens for secret and lifetime ttl; now is the clock.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	verified, err := lru.New[string, *verifiedToken](verifiedTokens)
	if err != nil {
		panic(err) // only for a size under 1
	}
	return &Tokens{secret: secret, ttl: ttl, now: now, verified: verified,
		validator: jwt.NewValidator(validation(now)...)}
}

// validation is what Parse requires of a token's claims, at the clock's time.
func validation(now func() time.Time) []jwt.ParserOption {
	return []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now)}
}

// TTL is the lifetime of the tokens Issue makes.
func (t *Tokens) TTL() time.Duration { return t.ttl }

type claims struct {
	CompanyID int64  `json:"cid"`
	Role      string `json:"role"`
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Issue returns a signed token for the agent, outside any session (it cannot be
// revoked: tests and tools only), and its expiry time.
func (t *Tokens) Issue(userID, companyID int64, role string) (string, time.Time, error) {
	return t.IssueSession(userID, companyID, role, "")
}

// IssueSession returns a signed token of the agent's session and its expiry time.
func (t *Tokens) IssueSession(userID, companyID int64, role, sessionID string) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	c := claims{
		CompanyID: companyID,
		Role:      role,
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp.Truncate(time.Second), nil
}

// Parse verifies a token: HS256 only (never "none"), our secret, exp required and in
// the future. Any failure is ErrInvalidToken: ErrTokenExpired for a genuine token
// past its exp, ErrSessionEnded for one of an ended session.
//
// A token that passed is remembered by its text (at most verifiedTokens, the least
// recently used forgotten first): the same text carries the same signature and
// claims, so its next requests skip decoding and the HMAC (5 µs and 53
// allocations a request, BenchmarkParse_FirstUseAndRemembered) and only run the
// time checks again; its session is looked up on every request as before. Only tokens we signed are remembered,
// so refused or forged ones cannot fill the cache.
func (t *Tokens) Parse(token string) (*Principal, error) {
	v, ok := t.verified.Get(token)
	if ok {
		if err := t.validator.Validate(&v.claims); err != nil {
			t.verified.Remove(token)
			if errors.Is(err, jwt.ErrTokenExpired) {
				return nil, ErrTokenExpired
			}
			return nil, ErrInvalidToken
		}
	} else {
		var err error
		if v, err = t.verify(token); err != nil {
			return nil, err
		}
		t.verified.Add(token, v)
	}
	c := &v.claims
	if c.SessionID != "" && t.Revoked.Has(c.SessionID) {
		return nil, ErrSessionEnded
	}
	return &Principal{UserID: v.userID, CompanyID: c.CompanyID, Role: c.Role, ExpiresAt: c.ExpiresAt.Time,
		SessionID: c.SessionID}, nil
}

// verify checks a token's signature and claims.
func (t *Tokens) verify(token string) (*verifiedToken, error) {
	v := &verifiedToken{}
	_, err := jwt.ParseWithClaims(token, &v.claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		append(validation(t.now), jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))...)
	if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		// jwt checks the signature before the claims: only a token we signed gets here.
		return nil, ErrTokenExpired
	}
	if err != nil {
		return nil, ErrInvalidToken
	}
	if v.userID, err = strconv.ParseInt(v.claims.Subject, 10, 64); err != nil || v.userID <= 0 || v.claims.CompanyID <= 0 {
		return nil, ErrInvalidToken
	}
	return v, nil
}

// BearerToken extracts the token of an "Authorization: Bearer …" value, or "".
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// bcryptCost is the work factor of new hashes.
var bcryptCost = bcrypt.DefaultCost

// HashPassword returns the bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the email is unknown, so an unknown email and a
// wrong password take the same time.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("connectme-timing-equaliser"), bcryptCost)
	return h
})

// CheckPassword reports whether password matches hash. With hash == "" it compares
// against a dummy hash of the same cost and returns false.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the client's network address (no port).
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr returns the client's network address in ctx, or "".
func ClientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}
