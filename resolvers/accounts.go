package resolvers

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/phone"
	"github.com/uptrace/bun"
)

// LoginFailedMessage is the legacy clients' message for a wrong email or password.
const LoginFailedMessage = "Login failed.please check the username and password and try again"

// maxNameLength bounds names, emails and company names.
const maxNameLength = 200

// SignupInput is what signing up takes (CONTRACT §2, POST /auth/signup).
type SignupInput struct {
	FirstName      string
	LastName       string
	Phone          string
	Email          string
	Password       string
	CompanyName    string
	WhatsAppNumber *string
}

// Session is a signed-in agent: an access token of its session and a fresh
// refresh token.
type Session struct {
	Token        string
	ExpiresAt    time.Time
	User         *db.User
	SessionID    string
	RefreshToken string
}

// Signup creates a company and its first agent, the OWNER.
func (r *Resolver) Signup(ctx context.Context, in SignupInput) (*db.User, error) {
	if err := checkText("email", in.Email, maxNameLength); err != nil {
		return nil, err
	}
	if err := r.allowAuthAttempt(ctx, in.Email); err != nil {
		return nil, err
	}
	var v apperr.Validation
	for field, val := range map[string]string{"firstName": in.FirstName, "lastName": in.LastName,
		"companyName": in.CompanyName, "phone": in.Phone, "password": in.Password} {
		if err := checkText(field, val, 1024); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
	}
	requireText(&v, "firstName", in.FirstName)
	requireText(&v, "lastName", in.LastName)
	requireText(&v, "companyName", in.CompanyName)
	normPhone, err := phone.Normalize(in.Phone)
	if err != nil {
		v.Addf("phone %s", err)
	}
	email := strings.TrimSpace(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxNameLength {
		v.Addf("email must be an email")
	}
	checkPassword(&v, "password", in.Password)
	var wa *string
	if in.WhatsAppNumber != nil && strings.TrimSpace(*in.WhatsAppNumber) != "" {
		n, err := phone.Normalize(*in.WhatsAppNumber)
		if err != nil {
			v.Addf("whatsappNumber %s", err)
		} else {
			s := "whatsapp:" + n
			wa = &s
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	company := &db.Company{Name: strings.TrimSpace(in.CompanyName), WhatsAppNumber: wa}
	role := db.RoleOwner
	owner := &db.User{
		Kind:         db.KindAgent,
		Role:         &role,
		FirstName:    strings.TrimSpace(in.FirstName),
		LastName:     strings.TrimSpace(in.LastName),
		Phone:        &normPhone,
		Email:        &email,
		PasswordHash: &hash,
	}
	// The company and its first agent, the OWNER, in one transaction.
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.InsertCompany(ctx, tx, company); err != nil {
			return err
		}
		owner.CompanyID = company.ID
		return db.InsertUser(ctx, tx, owner)
	})
	if err != nil {
		if db.IsUniqueViolation(err) {
			if strings.Contains(err.Error(), "whatsapp_number") {
				return nil, apperr.New(apperr.Conflict, "whatsappNumber is already registered")
			}
			return nil, apperr.New(apperr.Conflict, "email is already registered")
		}
		return nil, fmt.Errorf("signup: %w", err)
	}
	return owner, nil
}

// Login checks an agent's email and password and issues a token. A wrong password
// and an unknown email fail alike, and take the same time.
func (r *Resolver) Login(ctx context.Context, email, password string) (*Session, error) {
	var v apperr.Validation
	if strings.TrimSpace(email) == "" {
		v.Addf("email should not be empty")
	}
	if password == "" {
		v.Addf("password should not be empty")
	}
	for field, val := range map[string]string{"email": email, "password": password} {
		if err := checkText(field, val, 1024); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := r.allowAuthAttempt(ctx, email); err != nil {
		return nil, err
	}
	u, err := db.AgentByEmail(ctx, r.DB, normalEmail(email))
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, fmt.Errorf("login: %w", err)
	}
	hash := ""
	if err == nil && u.PasswordHash != nil {
		hash = *u.PasswordHash
	}
	// A deactivated agent fails as a wrong password does, after the same work.
	if !auth.CheckPassword(hash, password) || !u.Active {
		return nil, apperr.New(apperr.Forbidden, LoginFailedMessage)
	}
	return r.newSession(ctx, u)
}

// SignupAndLogin signs up and returns the new owner's session.
func (r *Resolver) SignupAndLogin(ctx context.Context, in SignupInput) (*Session, error) {
	u, err := r.Signup(ctx, in)
	if err != nil {
		return nil, err
	}
	return r.newSession(ctx, u)
}

// checkPassword applies the password rules of signup (8 characters to 72 bytes,
// bcrypt's limit).
func checkPassword(v *apperr.Validation, field, password string) {
	if utf8.RuneCountInString(password) < 8 {
		v.Addf("%s must be longer than or equal to 8 characters", field)
	} else if len(password) > 72 {
		v.Addf("%s must be shorter than or equal to 72 bytes", field)
	}
}

// Me returns the calling agent.
func (r *Resolver) Me(ctx context.Context) (*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, r.DB, p.CompanyID, p.UserID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, apperr.New(apperr.Unauthenticated, "Unauthorized")
	}
	return u, err
}

// CompanyOf returns the company of an agent to a caller of the same company. An
// anonymous caller can only hold a User from the payload of its own signup or login,
// so it may see that agent's company too.
func (r *Resolver) CompanyOf(ctx context.Context, u *db.User) (*db.Company, error) {
	if p := auth.FromContext(ctx); p != nil && u.CompanyID != p.CompanyID {
		return nil, apperr.New(apperr.Forbidden, "you don't have access to this company")
	}
	return db.CompanyByID(ctx, r.DB, u.CompanyID)
}

func requireText(v *apperr.Validation, field, value string) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(value)); {
	case n == 0:
		v.Addf("%s should not be empty", field)
	case n > maxNameLength:
		v.Addf("%s must be shorter than or equal to %d characters", field, maxNameLength)
	}
}

// normalEmail is the form of an email that lookups and rate limits use.
func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkText refuses text PostgreSQL cannot store faithfully (NUL, which the driver
// would silently drop), other control characters except tab and newlines, invalid
// UTF-8, and text longer than max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return apperr.Invalidf("%s must be shorter than or equal to %d characters", field, max)
	}
	if !utf8.ValidString(s) {
		return apperr.Invalidf("%s must be valid UTF-8 text", field)
	}
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return apperr.Invalidf("%s must not contain control characters", field)
		}
	}
	return nil
}
