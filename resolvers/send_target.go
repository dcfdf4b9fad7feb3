package resolvers

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// MaxClientMessageIDLength bounds a clientMessageId, in characters.
const MaxClientMessageIDLength = 64

// checkSendTarget validates who a message goes to (exactly one of To and
// ConversationID) and its ClientMessageID.
func checkSendTarget(in SendInput) error {
	var v apperr.Validation
	switch {
	case in.To > 0 && in.ConversationID != nil:
		v.Addf("give either to or conversationId, not both")
	case in.To <= 0 && in.ConversationID == nil:
		v.Addf("to or conversationId should not be empty")
	}
	if c := in.ClientMessageID; c != nil {
		if n := utf8.RuneCountInString(*c); !cleanText(*c) || n < 1 || n > MaxClientMessageIDLength {
			v.Addf("clientMessageId must be 1 to %d characters of text", MaxClientMessageIDLength)
		}
	}
	return v.Err()
}

// sendTarget resolves the contact a message goes to and, when it exists already,
// its conversation (convID 0 otherwise). Another company's contact or
// conversation is FORBIDDEN.
func (r *Resolver) sendTarget(ctx context.Context, companyID int64, in SendInput) (contactID, convID int64, err error) {
	if in.ConversationID != nil {
		conv, err := r.ConversationByID(ctx, *in.ConversationID)
		if err != nil {
			return 0, 0, err
		}
		return conv.UserID, conv.ID, nil
	}
	contact, err := r.Contact(ctx, in.To)
	if err != nil {
		return 0, 0, err
	}
	if in.ClientMessageID == nil {
		return contact.ID, 0, nil
	}
	convID, err = db.ConversationIDOf(ctx, r.DB, companyID, contact.ID, db.ChannelWhatsApp)
	if errors.Is(err, db.ErrNotFound) {
		return contact.ID, 0, nil
	}
	return contact.ID, convID, err
}

// retriedSend answers a send that failed with sendErr: when the send carried a
// ClientMessageID that its conversation already has, it was a retry, and the first
// message (as it is now) and its conversation are the answer; otherwise sendErr
// is. A duplicate found by the insert is always a retry.
func (r *Resolver) retriedSend(ctx context.Context, companyID, contactID, convID int64, clientMessageID *string,
	sendErr error) (*db.Message, *db.Conversation, error) {
	if clientMessageID == nil {
		return nil, nil, sendErr
	}
	if convID == 0 {
		// The conversation did not exist before this send: only the send's own
		// insert can have created it, concurrently with another send.
		id, err := db.ConversationIDOf(ctx, r.DB, companyID, contactID, db.ChannelWhatsApp)
		if err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return nil, nil, sendErr
			}
			return nil, nil, err
		}
		convID = id
	}
	msg, err := db.MessageByClientID(ctx, r.DB, companyID, convID, *clientMessageID)
	if errors.Is(err, db.ErrNotFound) {
		if errors.Is(sendErr, db.ErrDuplicateClientMessage) {
			// Impossible but for a deleted conversation: say so, not 500.
			return nil, nil, apperr.New(apperr.Conflict, "clientMessageId is already used in this conversation")
		}
		return nil, nil, sendErr
	}
	if err != nil {
		return nil, nil, err
	}
	conv, err := db.ConversationByID(ctx, r.DB, companyID, convID)
	if err != nil {
		return nil, nil, err
	}
	return msg, conv, nil
}
