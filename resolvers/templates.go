package resolvers

import (
	"context"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// Templates returns the templates the caller's company may send: the shared ones and
// its own.
func (r *Resolver) Templates(ctx context.Context) ([]*db.Template, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return db.ListTemplates(ctx, r.DB, p.CompanyID)
}

// TemplateApproved reports whether a template may be sent outside the 24-hour
// window: one with a content id must be APPROVED at WhatsApp; one without (the
// migrations' and hand-made ones) counts as approved.
func TemplateApproved(t *db.Template) bool {
	return t.ContentSID == nil || *t.ContentSID == "" || t.ApprovalStatus == db.ApprovalApproved
}

// allowedIn checks the plan against the conversation's window: free text and media
// need it open (WINDOW_CLOSED, with when it closed); outside it a template must be
// approved (BAD_USER_INPUT).
func (plan *sendPlan) allowedIn(w Window) error {
	if w.IsOpen() {
		return nil
	}
	if plan.template == nil {
		return &apperr.Error{Code: apperr.WindowClosed, WindowClosedAt: w.ExpiresAt,
			Message: "the 24-hour window of this conversation is closed: only a template message can be sent now"}
	}
	if !TemplateApproved(plan.template) {
		return apperr.Invalidf("template %q is %s at WhatsApp: outside the 24-hour window only an APPROVED template can be sent",
			plan.template.Name, plan.template.ApprovalStatus)
	}
	return nil
}
