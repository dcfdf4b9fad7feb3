package phone

import (
	"strings"
	"testing"
)

// FuzzNormalize checks that normalising never panics, that what it accepts is E.164
// (a "+" and at most 15 digits), that it is idempotent and ignores the provider's
// "whatsapp:" prefix, and that Digits keeps only digits.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+94717936775", "whatsapp:+94717936775", "+1 (415) 555-0100", "+44 7911.123456",
		"0717936775", "+", "", "+0", "++94717936775", "+94 71 793 6775 ext 12", "+٩٤٧١٧٩٣٦٧٧٥", "whatsapp:whatsapp:+1",
		"+999999999999999999999999999999", " \t+94717936775\n", "+1-800-FLOWERS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Digits(s)
		for _, r := range d {
			if r < '0' || r > '9' {
				t.Fatalf("Digits(%q) = %q", s, d)
			}
		}
		n, err := Normalize(s)
		if err != nil {
			if err != ErrInvalid || n != "" {
				t.Fatalf("Normalize(%q) = %q, %v", s, n, err)
			}
			return
		}
		if !strings.HasPrefix(n, "+") || len(n) < 2 || len(n) > 16 || Digits(n) != n[1:] {
			t.Fatalf("Normalize(%q) = %q, not E.164", s, n)
		}
		if again, err := Normalize(n); err != nil || again != n {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q, %v", s, n, again, err)
		}
		if wa, err := Normalize("whatsapp:" + n); err != nil || wa != n {
			t.Fatalf("Normalize(whatsapp:%s) = %q, %v", n, wa, err)
		}
	})
}
