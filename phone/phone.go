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
	return phonenumbers.Format(num, phonenumbers.E164), nil
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
