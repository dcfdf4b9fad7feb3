package resolvers

import (
	"context"
	"errors"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
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

// ContactOptions says what a contact list brings along.
type ContactOptions struct {
	// Total counts the contacts the search keeps.
	Total bool
}

// ListContacts returns a page of the caller's contacts by name, narrowed by search
// (name or phone digits): a cursor window (forward only), an offset page, or the
// whole list (up to MaxWholeList).
func (r *Resolver) ListContacts(ctx context.Context, search string, req PageRequest[db.ContactCursor], opt ContactOptions) (*Page[*db.User], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	pl, err := req.plan(false)
	if err != nil {
		return nil, err
	}
	if search, err = listSearch(search); err != nil {
		return nil, err
	}
	limit := pl.size
	if !pl.isOffset {
		limit++
	}
	us, err := db.ListContacts(ctx, r.DB, p.CompanyID, search, pl.after, pl.offset, limit)
	if err != nil {
		return nil, err
	}
	var pg *Page[*db.User]
	if pl.isOffset {
		pg = &Page[*db.User]{Items: us, HasPrevious: pl.offset > 0}
	} else {
		pg = window(pl, us)
	}
	if opt.Total {
		if pg.Total, err = db.CountContacts(ctx, r.DB, p.CompanyID, search); err != nil {
			return nil, err
		}
	}
	if pl.isOffset {
		pg.HasNext = len(us) == pl.size && (!opt.Total || pl.offset+len(us) < pg.Total)
	}
	return pg, nil
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
