package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// CannedResponse is a company's saved reply, found by its short code (CONTRACT §6).
type CannedResponse struct {
	bun.BaseModel `bun:"table:canned_responses,alias:canned"`

	ID        int64     `bun:"id,pk,autoincrement"`
	CompanyID int64     `bun:"company_id,notnull"`
	ShortCode string    `bun:"short_code,notnull"`
	Content   string    `bun:"content,notnull"`
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// CannedResponses returns the company's canned responses by short code; a search
// (non-empty) keeps those whose short code starts with it or whose content
// contains it, without regard to case.
func CannedResponses(ctx context.Context, idb bun.IDB, companyID int64, search string) ([]*CannedResponse, error) {
	var out []*CannedResponse
	q := idb.NewSelect().Model(&out).Where("company_id = ?", companyID)
	if search != "" {
		esc := escapeLike(search)
		q = q.Where("(short_code LIKE (lower(?) || '%') OR content ILIKE ('%' || ? || '%'))", esc, esc)
	}
	if err := q.Order("short_code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("canned responses: %w", err)
	}
	return out, nil
}

// CannedResponseByID returns a canned response of the company, or ErrNotFound
// (also when it is another company's).
func CannedResponseByID(ctx context.Context, idb bun.IDB, companyID, id int64) (*CannedResponse, error) {
	c := new(CannedResponse)
	err := idb.NewSelect().Model(c).Where("id = ?", id).Where("company_id = ?", companyID).Scan(ctx)
	return c, notFound(err)
}

// InsertCannedResponse stores a new canned response; a short code the company
// already uses is a unique violation.
func InsertCannedResponse(ctx context.Context, idb bun.IDB, c *CannedResponse) error {
	if _, err := idb.NewInsert().Model(c).Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("insert canned response: %w", err)
	}
	return nil
}

// UpdateCannedResponse stores a canned response's short code, content and
// updated_at; ErrNotFound when the company has no such canned response.
func UpdateCannedResponse(ctx context.Context, idb bun.IDB, c *CannedResponse) error {
	res, err := idb.NewUpdate().Model(c).Column("short_code", "content", "updated_at").
		Where("id = ?", c.ID).Where("company_id = ?", c.CompanyID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update canned response: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteCannedResponse deletes a canned response of the company; ErrNotFound when
// the company has no such canned response.
func DeleteCannedResponse(ctx context.Context, idb bun.IDB, companyID, id int64) error {
	res, err := idb.NewDelete().Model((*CannedResponse)(nil)).Where("id = ?", id).Where("company_id = ?", companyID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete canned response: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
