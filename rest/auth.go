package rest

import (
	"net/http"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
)

// legacyUser is the v1.2 user shape {userId, firstName, lastName, phone}.
type legacyUser struct {
	UserID    int64   `json:"userId"`
	FirstName string  `json:"firstName"`
	LastName  string  `json:"lastName"`
	Phone     *string `json:"phone"`
}

func toLegacyUser(u *db.User) legacyUser {
	return legacyUser{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone}
}

// signup is POST /auth/signup.
func (a *API) signup(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	in := resolvers.SignupInput{
		FirstName:      Str(b.String("firstName", true)),
		LastName:       Str(b.String("lastName", true)),
		Phone:          Str(b.String("phone", true)),
		Email:          Str(b.String("email", true)),
		Password:       Str(b.String("password", true)),
		CompanyName:    Str(b.String("companyName", true)),
		WhatsAppNumber: b.String("whatsappNumber", false),
	}
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	u, err := a.R.Signup(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLegacyUser(u))
}

type loginUser struct {
	legacyUser
	Email     *string `json:"email"`
	CompanyID int64   `json:"companyId"`
}

type loginResponse struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in"`
	User         loginUser `json:"user"`
}

// login is POST /auth/login.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	email := Str(b.String("email", true))
	password := Str(b.String("password", true))
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.R.Login(r.Context(), email, password)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeSession(w, s)
}

// writeSession answers the login shape.
func (a *API) writeSession(w http.ResponseWriter, s *resolvers.Session) {
	writeJSON(w, http.StatusOK, loginResponse{
		AccessToken:  s.Token,
		RefreshToken: s.RefreshToken,
		TokenType:    "Bearer",
		ExpiresIn:    int64(a.R.Tokens.TTL().Seconds()),
		User:         loginUser{legacyUser: toLegacyUser(s.User), Email: s.User.Email, CompanyID: s.User.CompanyID},
	})
}

// refresh is POST /auth/refresh {"refresh_token"}: a new token pair, in the login
// shape; any refused refresh token is 401.
func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBody(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tok := Str(b.String("refresh_token", true))
	if err := b.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.R.RefreshSession(r.Context(), tok)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeSession(w, s)
}

// logout is POST /auth/logout (bearer): ends the token's session; 204.
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if _, err := a.R.Logout(r.Context(), false); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
