package config

import (
	"strings"
	"testing"
)

func TestSlackErrorsNameFileAndLine(t *testing.T) {
	_, err := Load("testdata/bad_slack.yaml", noenv)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`testdata/bad_slack.yaml:5:51: slack.signing_secrets[1]: 5 bytes, need at least 16`,
		`testdata/bad_slack.yaml:6:12: slack.api_url "http://slack.example.com/api/": expected an https URL`,
		`testdata/bad_slack.yaml:7:41: slack.response_url_hosts[1] "http://hooks.example.com": http only for a loopback address`,
		`testdata/bad_slack.yaml:7:67: slack.response_url_hosts[2] "https://hooks.slack.com/path": expected a host name`,
		`testdata/bad_slack.yaml:8:12: slack.channel "#alerts": expected a channel id`,
		`testdata/bad_slack.yaml:11:12: slack.service_channels.PSVC2 "payments": expected a channel id`,
		`testdata/bad_slack.yaml:12:15: slack.user_group "oncall": expected a user group id`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short") || strings.Contains(err.Error(), "xoxb-") {
		t.Errorf("error shows a secret:\n%v", err)
	}
}

// TestSlackSecretsFromFiles: a short secret read from a file is named by the file's key.
func TestSlackSecretsFromFiles(t *testing.T) {
	_, err := Load("testdata/slack_files.yaml", noenv)
	if err == nil || !strings.Contains(err.Error(), "slack.signing_secret_files[1]: 4 bytes, need at least 16") {
		t.Fatalf("err = %v, want the short secret named by its file key", err)
	}
	env := map[string]string{"ALAYA_SLACK_SIGNING_SECRETS": "from-env-signing-secret-0001"}
	c, err := Load("testdata/slack_files.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Token.Reveal() != "xoxb-from-a-file-0000" || len(c.Slack.SigningSecrets) != 1 ||
		c.Slack.SigningSecrets[0].Reveal() != "from-env-signing-secret-0001" {
		t.Errorf("slack = %+v", c.Slack)
	}
}

func TestSlackDefaultsAndEnv(t *testing.T) {
	c, err := Load("", func(k string) string { return map[string]string{"ALAYA_EVIDENCE_DIR": "/x"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Enabled() || c.Slack.Interactive() || c.Slack.APIURL != "https://slack.com/api/" ||
		len(c.Slack.ResponseURLHosts) != 1 || c.Slack.ResponseURLHosts[0] != "hooks.slack.com" {
		t.Errorf("defaults: %+v", c.Slack)
	}
	env := map[string]string{
		"ALAYA_EVIDENCE_DIR":             "/x",
		"ALAYA_SLACK_TOKEN":              "xoxb-env",
		"ALAYA_SLACK_SIGNING_SECRETS":    "signing-secret-old-0001, signing-secret-new-0001",
		"ALAYA_SLACK_CHANNEL":            "C0ALERTS",
		"ALAYA_SLACK_SERVICE_CHANNELS":   "PSVC1=C0PAY, PSVC2=G0DB",
		"ALAYA_SLACK_RESPONSE_URL_HOSTS": "hooks.slack.com,http://127.0.0.1:8123",
		"ALAYA_SLACK_USER_GROUP":         "S0ONCALL",
		"ALAYA_SLACK_API_URL":            "http://127.0.0.1:9/api/",
	}
	c, err = Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := c.Slack
	if !s.Enabled() || !s.Interactive() || len(s.SigningSecrets) != 2 || s.ChannelFor("PSVC2") != "G0DB" ||
		s.ChannelFor("POTHER") != "C0ALERTS" || s.UserGroup != "S0ONCALL" || len(s.ResponseURLHosts) != 2 {
		t.Errorf("env not applied: %+v", s)
	}
	for _, secret := range []string{"xoxb-env", "signing-secret-old-0001"} {
		if !strings.Contains(strings.Join(c.Secrets(), " "), secret) {
			t.Errorf("Secrets() lacks a slack secret")
		}
	}
	_, err = Load("", func(k string) string {
		return map[string]string{"ALAYA_EVIDENCE_DIR": "/x", "ALAYA_SLACK_SERVICE_CHANNELS": "PSVC1"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "ALAYA_SLACK_SERVICE_CHANNELS") {
		t.Errorf("bad map: %v", err)
	}
}
