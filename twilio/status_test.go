package twilio_test

import (
	"strings"
	"testing"

	"github.com/connectme/connectme/db"
	"github.com/connectme/connectme/twilio"
)

func TestStatus_MapsTwiliosVocabularyOntoOurs(t *testing.T) {
	for in, want := range map[string]string{
		"accepted": db.StatusQueued, "scheduled": db.StatusQueued, "queued": db.StatusQueued,
		"sending": db.StatusQueued, "sent": db.StatusSent, "delivered": db.StatusDelivered,
		"read": db.StatusRead, "failed": db.StatusFailed, "undelivered": db.StatusUndelivered,
		"canceled": db.StatusFailed, " Delivered ": db.StatusDelivered,
	} {
		if got, known := twilio.Status(in); !known || got != want {
			t.Errorf("Status(%q) = %q, %v; want %q", in, got, known, want)
		}
	}
	for _, in := range []string{"", "receiving", "received", "exploded"} {
		if got, known := twilio.Status(in); known {
			t.Errorf("Status(%q) = %q, known; want unknown", in, got)
		}
	}
	for _, name := range strings.Split(twilio.StatusNames, ", ") {
		if _, known := twilio.Status(name); !known {
			t.Errorf("StatusNames lists %q, which Status does not know", name)
		}
	}
}
