package db

import (
	"context"

	"github.com/uptrace/bun"
)

// ListTemplates returns the shared templates and the company's own, by id.
func ListTemplates(ctx context.Context, idb bun.IDB, companyID int64) ([]*Template, error) {
	var ts []*Template
	err := idb.NewSelect().Model(&ts).
		Where("company_id IS NULL OR company_id = ?", companyID).
		OrderExpr("id").Scan(ctx)
	return ts, err
}

// TemplateByID returns a template the company may use (shared or its own), or
// ErrNotFound.
func TemplateByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*Template, error) {
	t := new(Template)
	err := idb.NewSelect().Model(t).Where("id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err)
	}
	if t.CompanyID != nil && *t.CompanyID != companyID {
		return nil, ErrForeign
	}
	return t, nil
}
