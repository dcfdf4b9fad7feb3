package rest

import (
	"net/http"
	"strconv"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/resolvers"
)

type legacyConversation struct {
	ConversationID      int64 `json:"conversationId"`
	CompanyID           int64 `json:"companyId"`
	UserID              int64 `json:"userId"`
	ChannelID           int   `json:"channelId"`
	LastUpdateTime      Time  `json:"lastUpdateTime"`
	LastFreeMessageTime Time  `json:"lastFreeMessageTime"`
	// Status and AssigneeID (the agent's userId, or null) are the team's workflow
	// (CONTRACT §6), added to the v1.2 shape.
	Status     string      `json:"status"`
	AssigneeID *int64      `json:"assigneeId"`
	User       *legacyUser `json:"user"`
}

type conversationPage struct {
	TotalCount int                  `json:"totalCount"`
	Page       string               `json:"page"`
	Limit      string               `json:"limit"`
	Data       []legacyConversation `json:"data"`
}

func toLegacyConversation(c *db.Conversation) legacyConversation {
	out := legacyConversation{ConversationID: c.ID, CompanyID: c.CompanyID, UserID: c.UserID, ChannelID: c.ChannelID,
		LastUpdateTime: TP(c.LastUpdateTime), LastFreeMessageTime: TP(c.LastFreeMessageTime),
		Status: c.Status, AssigneeID: c.AssigneeID}
	if c.User != nil {
		u := toLegacyUser(c.User)
		out.User = &u
	}
	return out
}

// conversationPageList is GET /conversation/conversation-page-list; page and limit
// are echoed as strings, exactly as the spec shows.
func (a *API) conversationPageList(w http.ResponseWriter, r *http.Request) {
	page, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pg, err := a.R.ListConversations(r.Context(), resolvers.ConversationFilter{},
		resolvers.PageRequest[db.ConversationCursor]{Page: page, Limit: limit}, resolvers.ConversationOptions{Total: true})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := conversationPage{TotalCount: pg.Total, Page: strconv.Itoa(page), Limit: strconv.Itoa(limit),
		Data: make([]legacyConversation, len(pg.Items))}
	for i, c := range pg.Items {
		out.Data[i] = toLegacyConversation(c)
	}
	writeJSON(w, http.StatusOK, out)
}

type chatTimeReport struct {
	LastFreeMessageTime Time    `json:"lastFreeMessageTime"`
	ComparedTime        Time    `json:"comparedTime"`
	Duration            float64 `json:"duration"`
	IsOpen              bool    `json:"isOpen"`
	ExpiresAt           Time    `json:"expiresAt"`
}

// chatTimeReport is GET /conversation/chat-time-report/{conversationId}: duration is
// the time left in the 24-hour window in hours, 0 when closed.
func (a *API) chatTimeReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "conversationId")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	win, err := a.R.ChatWindow(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, chatTimeReport{
		LastFreeMessageTime: TP(win.LastFreeMessageTime),
		ComparedTime:        T(win.Now),
		Duration:            win.Remaining.Hours(),
		IsOpen:              win.IsOpen(),
		ExpiresAt:           TP(win.ExpiresAt),
	})
}
