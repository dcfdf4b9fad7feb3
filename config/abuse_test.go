package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad_AbuseLimits(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyTimeout != 10*time.Second || c.UploadsPerAgent != 4 || c.WSMaxPerAgent != 20 || c.WSMaxPerAddr != 100 {
		t.Errorf("defaults: %v %d %d %d", c.BodyTimeout, c.UploadsPerAgent, c.WSMaxPerAgent, c.WSMaxPerAddr)
	}
	c, err = Load(env(map[string]string{"BODY_TIMEOUT": "2s", "UPLOADS_PER_AGENT": "0", "WS_MAX_PER_AGENT": "3", "WS_MAX_PER_ADDR": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyTimeout != 2*time.Second || c.UploadsPerAgent != 0 || c.WSMaxPerAgent != 3 || c.WSMaxPerAddr != 7 {
		t.Errorf("set: %v %d %d %d", c.BodyTimeout, c.UploadsPerAgent, c.WSMaxPerAgent, c.WSMaxPerAddr)
	}
	for name, bad := range map[string]string{
		"BODY_TIMEOUT": "10ms", "UPLOADS_PER_AGENT": "-1", "WS_MAX_PER_AGENT": "many", "WS_MAX_PER_ADDR": "1.5",
	} {
		if _, err := Load(env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, bad, err)
		}
	}
	seen := map[string]bool{}
	for _, v := range Vars {
		seen[v.Name] = true
	}
	for _, name := range []string{"BODY_TIMEOUT", "UPLOADS_PER_AGENT", "WS_MAX_PER_AGENT", "WS_MAX_PER_ADDR"} {
		if !seen[name] || c.Masked()[name] == nil {
			t.Errorf("%s is not documented in Vars or Masked", name)
		}
	}
}
