package config

import (
	"strings"
	"testing"
)

func TestLoad_GCPercent(t *testing.T) {
	cases := []struct {
		value string
		want  int
		bad   bool
	}{
		{"", GCAuto, false},
		{"Auto", GCAuto, false},
		{"100", 100, false},
		{" 800 ", 800, false},
		{"OFF", -1, false},
		{"off", -1, false},
		{"24", 0, true},
		{"10001", 0, true},
		{"-1", 0, true},
		{"200%", 0, true},
		{"lots", 0, true},
	}
	for _, tc := range cases {
		c, err := Load(env(map[string]string{"GC_PERCENT": tc.value}))
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "GC_PERCENT") {
				t.Errorf("GC_PERCENT=%q: err = %v, want a refusal naming GC_PERCENT", tc.value, err)
			}
			continue
		}
		if err != nil || c.GCPercent != tc.want {
			t.Errorf("GC_PERCENT=%q: %v, GCPercent %v; want %d", tc.value, err, c, tc.want)
		}
	}
}
