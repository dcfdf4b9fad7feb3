package resolvers

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// Canned responses (CONTRACT §6): saved replies every agent reads and renders into
// a conversation; OWNER and ADMIN create, change and delete them.

// maxCannedContent bounds a canned response's content, in characters.
const maxCannedContent = 4096

// ErrNoCannedResponseAccess is the one answer for a canned response of another
// company or of none.
var ErrNoCannedResponseAccess = apperr.New(apperr.Forbidden, "you don't have access to this canned response")

var shortCodePattern = regexp.MustCompile(`^[a-z0-9_-]{1,30}$`)

// cannedPlaceholder is {{scope.field}}, spaces allowed inside the braces.
var cannedPlaceholder = regexp.MustCompile(`\{\{\s*([A-Za-z]+\.[A-Za-z]+)\s*\}\}`)

// CannedInput is createCannedResponse's input.
type CannedInput struct {
	ShortCode string
	Content   string
}

// CannedChange is updateCannedResponse's input: at least one of ShortCode and
// Content.
type CannedChange struct {
	ID        int64
	ShortCode *string
	Content   *string
}

func checkShortCode(v *apperr.Validation, s string) string {
	s = strings.TrimSpace(s)
	if !shortCodePattern.MatchString(s) {
		v.Addf("shortCode must be 1 to 30 characters of a-z, 0-9, _ and -")
	}
	return s
}

func checkCannedContent(v *apperr.Validation, s string) string {
	s = strings.TrimSpace(s)
	if err := checkText("content", s, 4*maxCannedContent); err != nil {
		v.Addf("%s", apperr.As(err).Message)
	} else if n := utf8.RuneCountInString(s); n == 0 || n > maxCannedContent {
		v.Addf("content must be 1 to %d characters", maxCannedContent)
	}
	return s
}

// CannedResponses returns the caller's company's canned responses by short code; a
// search keeps those whose short code starts with it or whose content contains
// it, without regard to case.
func (r *Resolver) CannedResponses(ctx context.Context, search *string) ([]*db.CannedResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	s, err := listSearch(trimmed(search))
	if err != nil {
		return nil, err
	}
	if err := checkText("search", s, maxSearchTerm); err != nil {
		return nil, err
	}
	return db.CannedResponses(ctx, r.DB, p.CompanyID, s)
}

// CreateCannedResponse stores a canned response (OWNER and ADMIN only); a short
// code the company already uses is CONFLICT.
func (r *Resolver) CreateCannedResponse(ctx context.Context, in CannedInput) (*db.CannedResponse, error) {
	p, err := admin(ctx, "manage canned responses")
	if err != nil {
		return nil, err
	}
	var v apperr.Validation
	c := &db.CannedResponse{CompanyID: p.CompanyID, ShortCode: checkShortCode(&v, in.ShortCode),
		Content: checkCannedContent(&v, in.Content)}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = r.now(), r.now()
	if err := db.InsertCannedResponse(ctx, r.DB, c); err != nil {
		return nil, cannedConflict(c, err)
	}
	return c, nil
}

// UpdateCannedResponse changes a canned response's short code or content (OWNER and
// ADMIN only).
func (r *Resolver) UpdateCannedResponse(ctx context.Context, in CannedChange) (*db.CannedResponse, error) {
	p, err := admin(ctx, "manage canned responses")
	if err != nil {
		return nil, err
	}
	var v apperr.Validation
	var code, content string
	if in.ShortCode == nil && in.Content == nil {
		v.Addf("shortCode or content must be given")
	}
	if in.ShortCode != nil {
		code = checkShortCode(&v, *in.ShortCode)
	}
	if in.Content != nil {
		content = checkCannedContent(&v, *in.Content)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := db.CannedResponseByID(ctx, r.DB, p.CompanyID, in.ID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoCannedResponseAccess
	}
	if err != nil {
		return nil, err
	}
	if in.ShortCode != nil {
		c.ShortCode = code
	}
	if in.Content != nil {
		c.Content = content
	}
	c.UpdatedAt = r.now()
	switch err := db.UpdateCannedResponse(ctx, r.DB, c); {
	case errors.Is(err, db.ErrNotFound):
		return nil, ErrNoCannedResponseAccess
	case err != nil:
		return nil, cannedConflict(c, err)
	}
	return c, nil
}

// DeleteCannedResponse deletes a canned response of the caller's company (OWNER and
// ADMIN only).
func (r *Resolver) DeleteCannedResponse(ctx context.Context, id int64) (bool, error) {
	p, err := admin(ctx, "manage canned responses")
	if err != nil {
		return false, err
	}
	err = db.DeleteCannedResponse(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) {
		return false, ErrNoCannedResponseAccess
	}
	return err == nil, err
}

func cannedConflict(c *db.CannedResponse, err error) error {
	if db.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "the short code %q is already used", c.ShortCode)
	}
	return err
}

// RenderCannedResponse fills a canned response of the caller's company for a
// conversation of it: {{contact.firstName}}, {{contact.lastName}},
// {{contact.phone}} from the conversation's contact, {{agent.firstName}} and
// {{agent.lastName}} from the caller. Other placeholders stay as written; filled
// values are not read again for placeholders.
func (r *Resolver) RenderCannedResponse(ctx context.Context, id, conversationID int64) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	c, err := db.CannedResponseByID(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) {
		return "", ErrNoCannedResponseAccess
	}
	if err != nil {
		return "", err
	}
	conv, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return "", err
	}
	l, err := r.RequestLoaders(ctx)
	if err != nil {
		return "", err
	}
	users, err := l.Users().LoadAll(ctx, []int64{conv.UserID, p.UserID})
	if err != nil {
		return "", err
	}
	contact, agent := users[0], users[1]
	if contact == nil || agent == nil {
		return "", ErrNoConversationAccess
	}
	values := map[string]string{
		"contact.firstName": contact.FirstName, "contact.lastName": contact.LastName, "contact.phone": "",
		"agent.firstName": agent.FirstName, "agent.lastName": agent.LastName,
	}
	if contact.Phone != nil {
		values["contact.phone"] = *contact.Phone
	}
	return cannedPlaceholder.ReplaceAllStringFunc(c.Content, func(m string) string {
		key := cannedPlaceholder.FindStringSubmatch(m)[1]
		if v, ok := values[key]; ok {
			return v
		}
		return m
	}), nil
}
