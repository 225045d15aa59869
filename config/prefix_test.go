package config

import (
	"strings"
	"testing"
)

func TestNATSPrefixNamesTheStream(t *testing.T) {
	env := map[string]string{"ALAYA_EVIDENCE_DIR": "/e", "ALAYA_NATS_PREFIX": "staging"}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.Stream != "STAGING_EVENTS" {
		t.Errorf("stream %q, want STAGING_EVENTS derived from the prefix", c.NATS.Stream)
	}
	env["ALAYA_NATS_PREFIX"] = "a.b"
	if _, err := Load("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "nats.prefix") {
		t.Errorf("prefix a.b: %v, want an error naming nats.prefix", err)
	}
}
