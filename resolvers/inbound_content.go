package resolvers

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/connectme/connectme/apperr"
	"github.com/connectme/connectme/db"
)

// Bounds on the inbound webhook's content fields (WhatsApp's own are smaller).
const (
	maxPlaceLength    = 1024 // Address, Label
	maxButtonLength   = 1024 // ButtonText, ButtonPayload
	maxReferralLength = 4096 // ReferralHeadline, ReferralBody, and the ids and type
)

// InboundReferral is the click-to-WhatsApp ad or post a contact came from, as
// Twilio reports it (ReferralSourceType, ReferralSourceId, ReferralSourceUrl,
// ReferralHeadline, ReferralBody).
type InboundReferral struct {
	SourceType, SourceID, SourceURL, Headline, Body string
}

// inboundContent is what an inbound message carries besides its text and media.
type inboundContent struct {
	repliedSID  *string
	location    *db.Location
	interactive *db.InteractiveReply
	referral    *db.Referral
}

// apply sets the content on msg; a location or a button reply decides the type.
func (c inboundContent) apply(msg *db.Message) {
	msg.ReplyToSID, msg.Location, msg.InteractiveReply, msg.Referral = c.repliedSID, c.location, c.interactive, c.referral
	switch {
	case c.location != nil:
		msg.MessageType = db.TypeLocation
	case c.interactive != nil:
		msg.MessageType = db.TypeInteractiveReply
	}
}

// planContent validates the inbound content fields, naming Twilio's parameter in
// every failure.
func planContent(v *apperr.Validation, in InboundMessage) inboundContent {
	var c inboundContent
	if strings.TrimSpace(in.RepliedSID) != "" {
		if sid := checkSID(v, "OriginalRepliedMessageSid", in.RepliedSID); sid != "" {
			c.repliedSID = &sid
		}
	}
	c.location = planLocation(v, in)
	if strings.TrimSpace(in.ButtonText) != "" || in.ButtonPayload != "" {
		text := optionalText(v, "ButtonText", in.ButtonText, maxButtonLength)
		payload := optionalText(v, "ButtonPayload", in.ButtonPayload, maxButtonLength)
		if text == nil {
			v.Addf("ButtonText should not be empty when ButtonPayload is given")
		} else {
			c.interactive = &db.InteractiveReply{Text: *text, Payload: payload}
		}
	}
	if c.location != nil && c.interactive != nil {
		v.Addf("ButtonText cannot be combined with Latitude and Longitude: a message is a location or a button reply")
	}
	r := in.Referral
	ref := &db.Referral{
		SourceType: optionalText(v, "ReferralSourceType", r.SourceType, maxReferralLength),
		SourceID:   optionalText(v, "ReferralSourceId", r.SourceID, maxReferralLength),
		SourceURL:  optionalText(v, "ReferralSourceUrl", r.SourceURL, maxMediaURLLength),
		Headline:   optionalText(v, "ReferralHeadline", r.Headline, maxReferralLength),
		Body:       optionalText(v, "ReferralBody", r.Body, maxReferralLength),
	}
	if ref.SourceURL != nil {
		if u, err := url.Parse(*ref.SourceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.Addf("ReferralSourceUrl must be an http or https URL")
		}
	}
	if *ref != (db.Referral{}) {
		c.referral = ref
	}
	return c
}

// planLocation reads a shared location: both coordinates, in range, or neither (and
// then no Address or Label either).
func planLocation(v *apperr.Validation, in InboundMessage) *db.Location {
	latGiven, lngGiven := strings.TrimSpace(in.Latitude) != "", strings.TrimSpace(in.Longitude) != ""
	address := optionalText(v, "Address", in.Address, maxPlaceLength)
	label := optionalText(v, "Label", in.Label, maxPlaceLength)
	switch {
	case !latGiven && !lngGiven:
		if address != nil || label != nil {
			v.Addf("Latitude and Longitude should not be empty when Address or Label is given")
		}
		return nil
	case !latGiven:
		v.Addf("Latitude should not be empty when Longitude is given")
		return nil
	case !lngGiven:
		v.Addf("Longitude should not be empty when Latitude is given")
		return nil
	}
	lat, latOK := coordinate(in.Latitude, 90)
	lng, lngOK := coordinate(in.Longitude, 180)
	if !latOK {
		v.Addf("Latitude must be a number from -90 to 90")
	}
	if !lngOK {
		v.Addf("Longitude must be a number from -180 to 180")
	}
	if !latOK || !lngOK {
		return nil
	}
	return &db.Location{Latitude: lat, Longitude: lng, Address: address, Label: label}
}

// coordinate parses a decimal degree within ±limit.
func coordinate(s string, limit float64) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < -limit || f > limit {
		return 0, false
	}
	if f == 0 {
		f = 0 // no -0 in JSON
	}
	return f, true
}

// optionalText returns a trimmed provider text, nil when empty; text the database
// cannot store, or longer than max characters, is a validation failure.
func optionalText(v *apperr.Validation, field, s string, max int) *string {
	if !cleanText(s) {
		v.Addf("%s must be UTF-8 text without NUL characters", field)
		return nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if utf8.RuneCountInString(s) > max {
		v.Addf("%s must be shorter than or equal to %d characters", field, max)
		return nil
	}
	return &s
}

// LocationText is a location as one line of text: its label and address, then the
// coordinates, e.g. "Office, Main St 1 (6.9271, 79.8612)".
func LocationText(l *db.Location) string {
	var parts []string
	for _, p := range []*string{l.Label, l.Address} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	coords := "(" + strconv.FormatFloat(l.Latitude, 'f', -1, 64) + ", " + strconv.FormatFloat(l.Longitude, 'f', -1, 64) + ")"
	if len(parts) == 0 {
		return coords
	}
	return strings.Join(parts, ", ") + " " + coords
}
