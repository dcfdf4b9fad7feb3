package childproc

import "testing"

func TestTail_KeepsTheLastWholeLines(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"nothing written", 2, nil, ""},
		{"a partial line is not kept yet", 2, []string{"half"}, ""},
		{"a line split across writes", 2, []string{"hel", "lo\n"}, "hello"},
		{"older lines fall off", 2, []string{"a\nb\n", "c\nd"}, "b\nc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tail := &Tail{max: tc.max}
			for _, w := range tc.writes {
				if n, err := tail.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := tail.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
