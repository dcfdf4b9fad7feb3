package resolvers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/auth"
	"github.com/connectme/connectme/db"
)

// Labels (CONTRACT §6): every agent adds and removes them (created on first use);
// OWNER and ADMIN rename, recolor and delete them.

const (
	// maxLabelName bounds a label's name, in characters, after trimming.
	maxLabelName = 40
	// maxLabelNames bounds the names of one addLabels, removeLabels or filter.
	maxLabelNames = 20
)

// ErrNoLabelAccess is the one answer for a label of another company or of none.
var ErrNoLabelAccess = apperr.New(apperr.Forbidden, "you don't have access to this label")

var labelColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// admin returns the caller when it is an OWNER or ADMIN, else UNAUTHENTICATED or
// FORBIDDEN ("only the OWNER and ADMINs <what>").
func admin(ctx context.Context, what string) (*auth.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Role != db.RoleOwner && p.Role != db.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "only the OWNER and ADMINs %s", what)
	}
	return p, nil
}

// labelName trims a label name and checks it: 1 to 40 characters of text on one
// line.
func labelName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := checkText(field, s, 4*maxLabelName); err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "\t\n\r") {
		return "", apperr.Invalidf("%s must be one line without tabs", field)
	}
	if n := utf8.RuneCountInString(s); n == 0 || n > maxLabelName {
		return "", apperr.Invalidf("%s must be 1 to %d characters", field, maxLabelName)
	}
	return s, nil
}

// labelNames checks a list of label names (at least one, at most maxLabelNames) and
// returns them trimmed, without repeats (VIP and vip are one), sorted by their
// lower-case form: writers then lock labels in one order.
func labelNames(field string, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, apperr.Invalidf("%s should not be empty", field)
	}
	if len(names) > maxLabelNames {
		return nil, apperr.Invalidf("%s must have at most %d names", field, maxLabelNames)
	}
	var v apperr.Validation
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for i, raw := range names {
		n, err := labelName(fmt.Sprintf("%s[%d]", field, i), raw)
		if err != nil {
			v.Addf("%s", apperr.As(err).Message)
			continue
		}
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out, nil
}

// Labels returns the caller's company's labels by name.
func (r *Resolver) Labels(ctx context.Context) ([]*db.Label, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return db.Labels(ctx, r.DB, p.CompanyID)
}

// AddLabels gives a conversation of the caller's company the labels named, creating
// those the company does not have yet, and publishes conversationUpdated when the
// conversation gained one.
func (r *Resolver) AddLabels(ctx context.Context, conversationID int64, names []string) (*db.Conversation, error) {
	return r.changeLabels(ctx, conversationID, names, true)
}

// RemoveLabels takes the labels named off a conversation of the caller's company
// (names it does not carry are ignored), and publishes conversationUpdated when it
// lost one.
func (r *Resolver) RemoveLabels(ctx context.Context, conversationID int64, names []string) (*db.Conversation, error) {
	return r.changeLabels(ctx, conversationID, names, false)
}

func (r *Resolver) changeLabels(ctx context.Context, conversationID int64, names []string, add bool) (*db.Conversation, error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	names, err := labelNames("names", names)
	if err != nil {
		return nil, err
	}
	c, err := r.ConversationByID(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	tx, err := r.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	var changed int
	if add {
		if err := db.EnsureLabels(ctx, tx, c.CompanyID, names, r.now()); err != nil {
			return nil, err
		}
		changed, err = db.AttachLabels(ctx, tx, c.CompanyID, c.ID, names)
	} else {
		changed, err = db.DetachLabels(ctx, tx, c.CompanyID, c.ID, names)
	}
	if err != nil {
		return nil, err
	}
	if changed > 0 {
		if err := publish(ctx, tx, conversationEvent(c)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// The request may have read this conversation's labels (and counts) before.
	if l, err := r.RequestLoaders(ctx); err == nil {
		l.ConversationLabels().Clear(c.ID)
		l.LabelCounts().ClearAll()
	}
	return c, nil
}

// LabelChange is updateLabel's input: at least one of Name and Color.
type LabelChange struct {
	ID    int64
	Name  *string
	Color *string
}

// UpdateLabel renames or recolors a label (OWNER and ADMIN only). A name another
// label of the company has (without regard to case) is CONFLICT. It publishes no
// per-conversation event: clients refetch labels.
func (r *Resolver) UpdateLabel(ctx context.Context, in LabelChange) (*db.Label, error) {
	p, err := admin(ctx, "change labels")
	if err != nil {
		return nil, err
	}
	var name, color string
	var v apperr.Validation
	if in.Name == nil && in.Color == nil {
		v.Addf("name or color must be given")
	}
	if in.Name != nil {
		if name, err = labelName("name", *in.Name); err != nil {
			v.Addf("%s", apperr.As(err).Message)
		}
	}
	if in.Color != nil {
		if color = strings.TrimSpace(*in.Color); !labelColor.MatchString(color) {
			v.Addf("color must be #rrggbb (six hexadecimal digits)")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	l, err := db.LabelByID(ctx, r.DB, p.CompanyID, in.ID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoLabelAccess
	}
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		l.Name = name
	}
	if in.Color != nil {
		l.Color = strings.ToLower(color)
	}
	switch err := db.UpdateLabel(ctx, r.DB, l); {
	case errors.Is(err, db.ErrNotFound):
		return nil, ErrNoLabelAccess
	case db.IsUniqueViolation(err):
		return nil, apperr.New(apperr.Conflict, "another label is already called %q", l.Name)
	case err != nil:
		return nil, err
	}
	return l, nil
}

// DeleteLabel deletes a label of the caller's company (OWNER and ADMIN only), which
// takes it off every conversation. It publishes no per-conversation event.
func (r *Resolver) DeleteLabel(ctx context.Context, id int64) (bool, error) {
	p, err := admin(ctx, "delete labels")
	if err != nil {
		return false, err
	}
	err = db.DeleteLabel(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) {
		return false, ErrNoLabelAccess
	}
	return err == nil, err
}

// ConversationLabels returns a conversation's labels by name, batched per request.
func (r *Resolver) ConversationLabels(ctx context.Context, c *db.Conversation) ([]*db.Label, error) {
	l, err := r.RequestLoaders(ctx)
	if err != nil {
		return nil, err
	}
	return l.ConversationLabels().Load(ctx, c.ID)
}

// LabelConversationCount returns how many conversations carry the label, batched
// per request.
func (r *Resolver) LabelConversationCount(ctx context.Context, label *db.Label) (int, error) {
	l, err := r.RequestLoaders(ctx)
	if err != nil {
		return 0, err
	}
	return l.LabelCounts().Load(ctx, label.ID)
}

// filterLabels checks the label names of a conversation filter; none is no
// condition.
func filterLabels(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	return labelNames("filter.labels", names)
}
