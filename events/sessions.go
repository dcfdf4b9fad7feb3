package events

import (
	"encoding/json"
	"time"
)

// SessionsChannel is the NOTIFY channel of ended sessions (RevokedSessions), which
// every instance adds to its in-memory revocation set.
const SessionsChannel = "connectme_sessions"

// maxRevokedIDs bounds the ids one notification lists (a NOTIFY payload holds
// under 8,000 bytes); beyond it the notification says Reload.
const maxRevokedIDs = 100

// RevokedSessions announces sessions ended at At.
type RevokedSessions struct {
	At  time.Time `json:"at"`
	IDs []string  `json:"ids,omitempty"`
	// Reload says there were too many to list: read the table again.
	Reload bool `json:"reload,omitempty"`
}

// EncodeRevoked renders the announcement of ids ended at at.
func EncodeRevoked(at time.Time, ids []string) string {
	r := RevokedSessions{At: at, IDs: ids}
	if len(ids) > maxRevokedIDs {
		r.IDs, r.Reload = nil, true
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// DecodeRevoked parses a SessionsChannel payload.
func DecodeRevoked(payload string) (RevokedSessions, error) {
	var r RevokedSessions
	err := json.Unmarshal([]byte(payload), &r)
	return r, err
}
