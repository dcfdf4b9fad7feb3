package rest

import (
	"net/http"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
)

func toLegacyUsers(us []*db.User) []legacyUser {
	out := make([]legacyUser, len(us))
	for i, u := range us {
		out[i] = toLegacyUser(u)
	}
	return out
}

// contacts is GET /contact: the company's contacts by name; page and limit are
// optional (without either, the whole list, up to resolvers.MaxWholeList contacts).
func (a *API) contacts(w http.ResponseWriter, r *http.Request) {
	req := resolvers.PageRequest[db.ContactCursor]{Whole: true}
	if q := r.URL.Query(); q.Has("page") || q.Has("limit") {
		page, limit, err := pageParams(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		req = resolvers.PageRequest[db.ContactCursor]{Page: page, Limit: limit}
	}
	pg, err := a.R.ListContacts(r.Context(), "", req, resolvers.ContactOptions{})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLegacyUsers(pg.Items))
}

// contactSearch is GET /contact/search/{phone}.
func (a *API) contactSearch(w http.ResponseWriter, r *http.Request) {
	q, err := pathText(r, "phone")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	us, err := a.R.SearchContactsByPhone(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLegacyUsers(us))
}

func profileUpdate(b *body, required bool) resolvers.ProfileUpdate {
	return resolvers.ProfileUpdate{
		FirstName: b.String("firstName", required),
		LastName:  b.String("lastName", required),
		Phone:     b.String("phone", required),
	}
}

// updateContact is PUT /contact.
func (a *API) updateContact(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id := b.ID("userId", true)
	upd := profileUpdate(b, false)
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	u, err := a.R.UpdateContact(r.Context(), *id, upd)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLegacyUser(u))
}

// profile is GET /profile/{profileId}.
func (a *API) profile(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "profileId")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	u, err := a.R.Profile(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLegacyUser(u))
}

type statusResponse struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
}

// updateProfile is PUT /profile.
func (a *API) updateProfile(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id := b.ID("userId", true)
	upd := profileUpdate(b, true)
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.R.UpdateProfile(r.Context(), *id, upd); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{Status: true, Message: "Profile Update sucessfully"})
}
