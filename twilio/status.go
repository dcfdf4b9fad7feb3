package twilio

import (
	"strings"

	"github.com/connectme/connectme/db"
)

// statuses maps Twilio's message statuses onto ours: the send call's answer and
// the status callbacks speak the same vocabulary. Twilio's own order
// (accepted/scheduled/queued/sending before sent) all means "Twilio has it".
var statuses = map[string]string{
	"accepted":    db.StatusQueued,
	"scheduled":   db.StatusQueued,
	"queued":      db.StatusQueued,
	"sending":     db.StatusQueued,
	"sent":        db.StatusSent,
	"delivered":   db.StatusDelivered,
	"read":        db.StatusRead,
	"failed":      db.StatusFailed,
	"undelivered": db.StatusUndelivered,
	"canceled":    db.StatusFailed,
}

// StatusNames lists the statuses Status knows, for messages that name them.
const StatusNames = "accepted, scheduled, queued, sending, sent, delivered, read, failed, undelivered, canceled"

// Status maps a Twilio message status (MessageStatus, or the send call's answer;
// case and spaces do not matter) onto CONNECTME's; known is false for a status
// Twilio may add later, or one that is not about an outbound message.
func Status(s string) (status string, known bool) {
	status, known = statuses[strings.ToLower(strings.TrimSpace(s))]
	return status, known
}
