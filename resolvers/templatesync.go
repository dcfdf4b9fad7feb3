package resolvers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/twilio"
)

// ContentSource lists the deployment's templates at the provider
// (twilio.ContentClient).
type ContentSource interface {
	ListContent(ctx context.Context) ([]twilio.Content, error)
}

// TemplateSync is what a template sync changed.
type TemplateSync struct {
	Added, Updated, Removed int
}

// SyncTemplates reads the provider's templates and keeps them (OWNER and ADMIN).
func (r *Resolver) SyncTemplates(ctx context.Context) (*TemplateSync, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Role != db.RoleOwner && p.Role != db.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "only the OWNER and ADMINs sync templates")
	}
	return r.syncTemplates(ctx)
}

// RunTemplateSync is the periodic sync: how many templates it changed.
func (r *Resolver) RunTemplateSync(ctx context.Context) (int, error) {
	s, err := r.syncTemplates(ctx)
	if err != nil {
		return 0, err
	}
	return s.Added + s.Updated + s.Removed, nil
}

// syncTemplates makes the synced templates what the provider lists: new ones are
// added (shared by every company), changed ones updated, those gone soft-deleted.
// Templates that did not come from the provider are never touched. One sync runs at
// a time (a transaction lock); the listing is read before the transaction, so no
// connection waits on the provider.
func (r *Resolver) syncTemplates(ctx context.Context) (*TemplateSync, error) {
	if r.Contents == nil {
		return nil, apperr.New(apperr.Unavailable, "template sync needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	contents, err := r.Contents.ListContent(ctx)
	if err != nil {
		if r.Log != nil {
			r.Log.WarnContext(ctx, "template sync: the Content API failed", "err", err.Error())
		}
		return nil, apperr.New(apperr.Unavailable, "Twilio's Content API could not be read; try again shortly")
	}
	wanted := make(map[string]*db.Template, len(contents))
	for i := range contents {
		if t := templateOf(&contents[i]); t != nil {
			wanted[*t.ContentSID] = t
		}
	}
	out := &TemplateSync{}
	err = r.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.LockTemplateSync(ctx, tx); err != nil {
			return err
		}
		have, err := db.SyncedTemplates(ctx, tx)
		if err != nil {
			return err
		}
		var gone []int64
		for _, old := range have {
			w, ok := wanted[*old.ContentSID]
			if !ok {
				if old.DeletedAt == nil {
					gone = append(gone, old.ID)
				}
				continue
			}
			delete(wanted, *old.ContentSID)
			switch {
			case old.DeletedAt != nil:
				out.Added++
			case sameTemplate(old, w):
				continue
			default:
				out.Updated++
			}
			w.ID = old.ID
			if err := db.UpdateSyncedTemplate(ctx, tx, w); err != nil {
				return fmt.Errorf("update template %s: %w", *w.ContentSID, err)
			}
		}
		if err := db.DeleteSyncedTemplates(ctx, tx, gone); err != nil {
			return err
		}
		out.Removed = len(gone)
		sids := make([]string, 0, len(wanted))
		for sid := range wanted {
			sids = append(sids, sid)
		}
		slices.Sort(sids) // ids in a stable order
		for _, sid := range sids {
			if err := db.InsertSyncedTemplate(ctx, tx, wanted[sid]); err != nil {
				return fmt.Errorf("insert template %s: %w", sid, err)
			}
			out.Added++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// templateOf is the template a provider content becomes; nil for one without a
// content id.
func templateOf(c *twilio.Content) *db.Template {
	sid := strings.TrimSpace(c.SID)
	if sid == "" {
		return nil
	}
	t := &db.Template{ContentSID: &sid, Name: c.FriendlyName, Language: c.Language, Content: c.Body(),
		Variables: c.VariableValues(), ApprovalStatus: db.ApprovalUnsubmitted}
	if a := c.ApprovalRequests; a != nil {
		t.ApprovalStatus = approvalStatusOf(a.Status)
		if cat := strings.ToUpper(strings.TrimSpace(a.Category)); cat != "" {
			t.Category = &cat
		}
		if t.Name == "" {
			t.Name = a.Name
		}
	}
	if t.Name == "" {
		t.Name = sid
	}
	if t.Language == "" {
		t.Language = "en"
	}
	return t
}

// approvalStatusOf maps Twilio's WhatsApp approval status onto ours. A status we
// do not know is PENDING: not sendable outside the window, and not final.
func approvalStatusOf(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "approved":
		return db.ApprovalApproved
	case "rejected":
		return db.ApprovalRejected
	case "paused":
		return db.ApprovalPaused
	case "disabled":
		return db.ApprovalDisabled
	case "", "unsubmitted":
		return db.ApprovalUnsubmitted
	}
	return db.ApprovalPending
}

// sameTemplate reports whether a stored synced template already says what the
// provider does.
func sameTemplate(old, w *db.Template) bool {
	return old.Name == w.Name && old.Language == w.Language && old.Content == w.Content &&
		old.ApprovalStatus == w.ApprovalStatus && slices.Equal(old.Variables, w.Variables) &&
		(old.Category == nil) == (w.Category == nil) && (old.Category == nil || *old.Category == *w.Category)
}
