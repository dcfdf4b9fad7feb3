package resolvers

import (
	"context"
	"errors"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/graph/model"
	"github.com/connectme/connectme/phone"
)

// ErrNoProfileAccess is the legacy answer for a profile that is neither a contact of
// the caller's company nor the caller.
var ErrNoProfileAccess = apperr.New(apperr.Forbidden, "Access forbidden to unconnected profiles")

// ErrNoContactAccess is the answer for a contact of another company or of none.
var ErrNoContactAccess = apperr.New(apperr.Forbidden, "you don't have access to this contact")

// Contact returns a contact of the caller's company.
func (r *Resolver) Contact(ctx context.Context, id int64) (*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && u.Kind != db.KindContact) {
		return nil, ErrNoContactAccess
	}
	return u, err
}

// ListContacts returns a page of the caller's contacts by name (Relay connection).
func (r *Resolver) ListContacts(ctx context.Context, search string, first *int, after *string) (*model.UserConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	n, _, err := pageSize(first, nil)
	if err != nil {
		return nil, err
	}
	if len(search) > maxSearchTerm {
		return nil, apperr.Invalidf("search must be shorter than or equal to %d characters", maxSearchTerm)
	}
	cur, err := decodeContactCursor(after)
	if err != nil {
		return nil, err
	}
	us, err := db.ListContacts(ctx, r.DB, p.CompanyID, search, cur, 0, n+1)
	if err != nil {
		return nil, err
	}
	more := len(us) > n
	if more {
		us = us[:n]
	}
	conn := &model.UserConnection{}
	conn.Edges, conn.PageInfo = edges(us, contactCursor, func(c string, u *db.User) *model.UserEdge {
		return &model.UserEdge{Cursor: c, Node: u}
	}, more, cur != nil)
	if wantsTotal(ctx) {
		if conn.TotalCount, err = db.CountContacts(ctx, r.DB, p.CompanyID, search); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// ContactList is the legacy contact list by name; page 0 means all (capped).
func (r *Resolver) ContactList(ctx context.Context, page, limit int) ([]*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	offset := 0
	if page == 0 && limit == 0 {
		limit = 1000
	} else if offset, err = ValidatePage(page, limit); err != nil {
		return nil, err
	}
	return db.ListContacts(ctx, r.DB, p.CompanyID, "", nil, offset, limit)
}

// SearchContactsByPhone returns the caller's contacts whose phone contains the digits
// of query (+, spaces and dashes ignored).
func (r *Resolver) SearchContactsByPhone(ctx context.Context, query string) ([]*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	digits := phone.Digits(query)
	var v apperr.Validation
	for _, c := range query {
		if !(c >= '0' && c <= '9') && c != '+' && c != ' ' && c != '-' {
			v.Addf("phone must contain only digits, +, spaces and dashes")
			break
		}
	}
	if digits == "" {
		v.Addf("phone should not be empty")
	} else if len(digits) > 20 {
		v.Addf("phone must be shorter than or equal to 20 digits")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return db.ContactsByPhoneDigits(ctx, r.DB, p.CompanyID, digits, MaxPageSize)
}

// ProfileUpdate changes some fields of a profile; nil fields stay.
type ProfileUpdate struct {
	FirstName, LastName, Phone *string
}

func (u ProfileUpdate) validate() (db.UserUpdate, error) {
	var v apperr.Validation
	out := db.UserUpdate{}
	for _, f := range []struct {
		name string
		val  *string
		dst  **string
	}{{"firstName", u.FirstName, &out.FirstName}, {"lastName", u.LastName, &out.LastName}} {
		if f.val == nil {
			continue
		}
		s := trimmed(f.val)
		if len([]rune(s)) > maxNameLength {
			v.Addf("%s must be shorter than or equal to %d characters", f.name, maxNameLength)
		} else if err := checkText(f.name, s, 4*maxNameLength); err != nil {
			v.Addf("%s", err.(*apperr.Error).Message)
		}
		*f.dst = &s
	}
	if u.Phone != nil {
		n, err := phone.Normalize(*u.Phone)
		if err != nil {
			v.Addf("phone %s", err)
		}
		out.Phone = &n
	}
	return out, v.Err()
}

func (r *Resolver) update(ctx context.Context, companyID, id int64, u ProfileUpdate) (*db.User, error) {
	upd, err := u.validate()
	if err != nil {
		return nil, err
	}
	out, err := db.UpdateUser(ctx, r.DB, companyID, id, upd)
	if db.IsUniqueViolation(err) {
		return nil, apperr.New(apperr.Conflict, "another contact of the company has this phone number")
	}
	return out, err
}

// UpdateContact changes a contact of the caller's company.
func (r *Resolver) UpdateContact(ctx context.Context, id int64, u ProfileUpdate) (*db.User, error) {
	c, err := r.Contact(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, c.CompanyID, c.ID, u)
}

// Profile returns the caller, or a contact of the caller's company.
func (r *Resolver) Profile(ctx context.Context, id int64) (*db.User, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, r.DB, p.CompanyID, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && u.Kind != db.KindContact && u.ID != p.UserID) {
		return nil, ErrNoProfileAccess
	}
	return u, err
}

// UpdateProfile changes the caller's profile, or a contact's of the caller's company.
func (r *Resolver) UpdateProfile(ctx context.Context, id int64, u ProfileUpdate) (*db.User, error) {
	target, err := r.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, target.CompanyID, target.ID, u)
}
