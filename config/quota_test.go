package config

import "testing"

func TestLoad_MediaQuotaPerCompany(t *testing.T) {
	cases := map[string]int64{
		"":       2 << 30,
		"0":      0,
		"1000":   1000,
		"500MB":  500_000_000,
		"2GiB":   2 << 30,
		"1.5GB":  -1,
		"-1":     -1,
		"lots":   -1,
		"10 mib": 10 << 20,
	}
	for v, want := range cases {
		c, err := Load(env(map[string]string{"MEDIA_QUOTA_PER_COMPANY": v}))
		switch {
		case want < 0 && err == nil:
			t.Errorf("MEDIA_QUOTA_PER_COMPANY=%q accepted as %d", v, c.MediaQuotaPerCompany)
		case want >= 0 && err != nil:
			t.Errorf("MEDIA_QUOTA_PER_COMPANY=%q: %v", v, err)
		case want >= 0 && c.MediaQuotaPerCompany != want:
			t.Errorf("MEDIA_QUOTA_PER_COMPANY=%q = %d, want %d", v, c.MediaQuotaPerCompany, want)
		}
	}
}
