package config

import (
	"runtime"
	"strings"
	"testing"
)

func TestLoad_WorkingRequests(t *testing.T) {
	auto := WorkPerCore * runtime.GOMAXPROCS(0)
	cases := []struct {
		value  string
		want   int // WorkingRequests
		places int // WorkPlaces
		bad    bool
	}{
		{"", WorkAuto, auto, false},
		{"AUTO", WorkAuto, auto, false},
		{"1", 1, 1, false},
		{" 12 ", 12, 12, false},
		{"off", -1, 0, false},
		{"0", 0, 0, true},
		{"-3", 0, 0, true},
		{"100001", 0, 0, true},
		{"8x", 0, 0, true},
		{"many", 0, 0, true},
	}
	for _, tc := range cases {
		c, err := Load(env(map[string]string{"WORKING_REQUESTS": tc.value}))
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "WORKING_REQUESTS") {
				t.Errorf("WORKING_REQUESTS=%q: err = %v, want a refusal naming WORKING_REQUESTS", tc.value, err)
			}
			continue
		}
		if err != nil || c.WorkingRequests != tc.want || c.WorkPlaces() != tc.places {
			t.Errorf("WORKING_REQUESTS=%q: %v, WorkingRequests %v places %d; want %d and %d",
				tc.value, err, c.WorkingRequests, c.WorkPlaces(), tc.want, tc.places)
		}
		if got := c.Masked()["WORKING_REQUESTS"]; got != strings.ToLower(strings.TrimSpace(tc.value)) && tc.value != "" {
			t.Errorf("WORKING_REQUESTS=%q shown as %v", tc.value, got)
		}
	}
}
