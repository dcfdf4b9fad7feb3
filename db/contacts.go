package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// ContactCursor is a keyset position in a company's contacts (by name, then id).
type ContactCursor struct {
	FirstName, LastName string
	ID                  int64
}

func contactSearch(q *bun.SelectQuery, search string) *bun.SelectQuery {
	s := strings.TrimSpace(search)
	if s == "" {
		return q
	}
	digits := digitsOf(s)
	return q.Where("((first_name || ' ' || last_name) ILIKE ? OR (? <> '' AND phone LIKE ?))",
		"%"+escapeLike(s)+"%", digits, "%"+digits+"%")
}

// ListContacts returns up to limit contacts of the company after the cursor, by name.
func ListContacts(ctx context.Context, idb bun.IDB, companyID int64, search string, after *ContactCursor, offset, limit int) ([]*User, error) {
	var us []*User
	q := idb.NewSelect().Model(&us).
		Where("company_id = ?", companyID).Where("kind = ?", KindContact).
		OrderExpr("first_name, last_name, id").Limit(limit)
	q = contactSearch(q, search)
	if after != nil {
		q = q.Where("(first_name, last_name, id) > (?, ?, ?)", after.FirstName, after.LastName, after.ID)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return us, nil
}

// CountContacts counts the company's contacts matching search.
func CountContacts(ctx context.Context, idb bun.IDB, companyID int64, search string) (int, error) {
	q := idb.NewSelect().Model((*User)(nil)).Where("company_id = ?", companyID).Where("kind = ?", KindContact)
	return contactSearch(q, search).Count(ctx)
}

// ContactsByPhoneDigits returns the company's contacts whose phone contains digits.
func ContactsByPhoneDigits(ctx context.Context, idb bun.IDB, companyID int64, digits string, limit int) ([]*User, error) {
	var us []*User
	err := idb.NewSelect().Model(&us).
		Where("company_id = ?", companyID).Where("kind = ?", KindContact).
		Where("phone LIKE ?", "%"+escapeLike(digits)+"%").
		OrderExpr("first_name, last_name, id").Limit(limit).Scan(ctx)
	return us, err
}

// UsersByIDs returns the company's users among ids, in any order.
func UsersByIDs(ctx context.Context, idb bun.IDB, companyID int64, ids []int64) ([]*User, error) {
	var us []*User
	err := idb.NewSelect().Model(&us).Where("id IN (?)", bun.List(ids)).Where("company_id = ?", companyID).Scan(ctx)
	return us, err
}

// UserUpdate changes some fields of a user; nil fields stay.
type UserUpdate struct {
	FirstName, LastName, Phone *string
}

// UpdateUser applies u to a user of the company and returns the stored row. A name
// changed on a contact is remembered (name_edited) so the provider's profile name
// never overwrites it.
func UpdateUser(ctx context.Context, idb bun.IDB, companyID, id int64, u UserUpdate) (*User, error) {
	q := idb.NewUpdate().Model((*User)(nil)).
		Set("updated_at = now()").
		Where("id = ?", id).Where("company_id = ?", companyID).
		Returning("*")
	if u.FirstName != nil {
		q = q.Set("first_name = ?", *u.FirstName)
	}
	if u.LastName != nil {
		q = q.Set("last_name = ?", *u.LastName)
	}
	if u.FirstName != nil || u.LastName != nil {
		q = q.Set("name_edited = (kind = 'CONTACT')")
	}
	if u.Phone != nil {
		q = q.Set("phone = ?", *u.Phone)
	}
	var out []*User
	if err := q.Scan(ctx, &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out[0], nil
}

// TemplatesByIDs returns the templates among ids that the company may see.
func TemplatesByIDs(ctx context.Context, idb bun.IDB, companyID int64, ids []int64) ([]*Template, error) {
	var ts []*Template
	err := idb.NewSelect().Model(&ts).Where("id IN (?)", bun.List(ids)).
		Where("company_id IS NULL OR company_id = ?", companyID).Scan(ctx)
	return ts, err
}
