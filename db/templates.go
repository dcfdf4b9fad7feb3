package db

import (
	"context"

	"github.com/uptrace/bun"
)

// ListTemplates returns the shared templates and the company's own, by id; those
// deleted at the provider are left out.
func ListTemplates(ctx context.Context, idb bun.IDB, companyID int64) ([]*Template, error) {
	var ts []*Template
	err := idb.NewSelect().Model(&ts).
		Where("company_id IS NULL OR company_id = ?", companyID).Where("deleted_at IS NULL").
		OrderExpr("id").Scan(ctx)
	return ts, err
}

// TemplateByID returns a template the company may use (shared or its own, not
// deleted at the provider), or ErrNotFound.
func TemplateByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*Template, error) {
	t := new(Template)
	err := idb.NewSelect().Model(t).Where("id = ?", id).Where("deleted_at IS NULL").Scan(ctx)
	if err != nil {
		return nil, notFound(err)
	}
	if t.CompanyID != nil && *t.CompanyID != companyID {
		return nil, ErrForeign
	}
	return t, nil
}

// LockTemplateSync takes the transaction's lock that lets one template sync run at
// a time, whichever instance or caller started it.
func LockTemplateSync(ctx context.Context, idb bun.IDB) error {
	_, err := idb.NewRaw("SELECT pg_advisory_xact_lock(hashtext('connectme:template_sync'))").Exec(ctx)
	return err
}

// SyncedTemplates returns every template a sync made, those deleted at the provider
// too.
func SyncedTemplates(ctx context.Context, idb bun.IDB) ([]*Template, error) {
	var ts []*Template
	err := idb.NewSelect().Model(&ts).Where("synced").OrderExpr("id").Scan(ctx)
	return ts, err
}

// InsertSyncedTemplate stores a template new at the provider (shared, synced).
func InsertSyncedTemplate(ctx context.Context, idb bun.IDB, t *Template) error {
	t.Synced, t.CompanyID = true, nil
	_, err := idb.NewInsert().Model(t).Returning("*").Exec(ctx)
	return err
}

// UpdateSyncedTemplate writes what the provider says of a synced template, and
// brings it back if it was deleted.
func UpdateSyncedTemplate(ctx context.Context, idb bun.IDB, t *Template) error {
	_, err := idb.NewUpdate().Model(t).
		Column("name", "language", "content", "category", "approval_status", "variables").
		Set("deleted_at = NULL").Set("updated_at = now()").
		Where("id = ? AND synced", t.ID).Exec(ctx)
	return err
}

// DeleteSyncedTemplates soft-deletes synced templates gone from the provider:
// lists and sends leave them out, messages keep them.
func DeleteSyncedTemplates(ctx context.Context, idb bun.IDB, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := idb.NewUpdate().Model((*Template)(nil)).
		Set("deleted_at = now()").Set("updated_at = now()").
		Where("id IN (?) AND synced AND deleted_at IS NULL", bun.List(ids)).Exec(ctx)
	return err
}
