// Package phone normalises phone numbers to E.164 with libphonenumber's rules.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for anything that is not an international phone number.
var ErrInvalid = errors.New("must be a phone number in international format, e.g. +94717936775")

// Normalize returns s in E.164 ("+94717936775"). It accepts the provider's
// "whatsapp:" prefix, spaces, dashes, dots and brackets, but requires the leading
// "+": a national number is refused rather than guessed.
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "whatsapp:")
	if !strings.HasPrefix(s, "+") || len(s) > 32 {
		return "", ErrInvalid
	}
	for _, r := range s[1:] {
		if !(r >= '0' && r <= '9') && !strings.ContainsRune(" -.()", r) {
			return "", ErrInvalid
		}
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", ErrInvalid
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	// The result must normalise to itself, or one contact could be stored under two
	// numbers. libphonenumber drops a national trunk prefix written after the country
	// code ("+880 0171…" is "+880171…"), so a number with that prefix twice would
	// shrink again on every pass ("+88000000000" → "+8800000000" → …; found by
	// FuzzNormalize). Such input is refused rather than guessed at.
	again, err := phonenumbers.Parse(out, "")
	if err != nil || !phonenumbers.IsPossibleNumber(again) || phonenumbers.Format(again, phonenumbers.E164) != out {
		return "", ErrInvalid
	}
	// E.164 allows at most 15 digits; libphonenumber calls some longer German
	// numbers possible, but the provider would refuse them (found by FuzzNormalize).
	if len(out) > 1+15 {
		return "", ErrInvalid
	}
	return out, nil
}

// Digits returns only the decimal digits of s (for "contains" searches).
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
