package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noenv(string) string { return "" }

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yaml", noenv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Receiver.WebhookSecrets; len(got) != 2 || got[0].Reveal() != "rotating-old" || got[1].Reveal() != "rotating-new" {
		t.Errorf("webhook secrets = %v", got)
	}
	if want, _ := filepath.Abs("testdata/runbooks"); c.Worker.Runbooks != filepath.Join("testdata", "runbooks") && c.Worker.Runbooks != want {
		t.Errorf("runbooks path %q not resolved against the config file", c.Worker.Runbooks)
	}
	if p := c.TrustedProxyPrefixes(); len(p) != 2 || p[1].String() != "192.0.2.7/32" {
		t.Errorf("trusted proxies = %v, want a CIDR and a single address", p)
	}
	if c.NATS.Duplicates != 72*time.Hour || c.Worker.Concurrency != 4 {
		t.Errorf("defaults not applied: %+v %+v", c.NATS, c.Worker)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown_key.yaml", []string{`testdata/unknown_key.yaml:3:3: unknown key "strem"`}},
		{"bad_duration.yaml", []string{`testdata/bad_duration.yaml:2:15: expected a duration such as 30s or 5m`}},
		{"bad_values.yaml", []string{
			`testdata/bad_values.yaml:2:10: log.level "loud"`,
			`testdata/bad_values.yaml:4:15: receiver.public_url "alaya.example.com": expected an absolute URL`,
			`testdata/bad_values.yaml:5:20: receiver.trusted_proxies: "10.0.0.0/33" is neither a CIDR`,
			`testdata/bad_values.yaml:8:9: pagerduty.from "not-an-email"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tt.file), noenv)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"ALAYA_NATS_URLS":                "nats://x:1, nats://y:2",
		"ALAYA_PAGERDUTY_TOKEN":          "from-env",
		"ALAYA_PAGERDUTY_FROM":           "ops@example.com",
		"ALAYA_EVIDENCE_DIR":             "/var/lib/alaya",
		"ALAYA_WORKER_ACK_WAIT":          "45s",
		"ALAYA_SAFETY_DRY_RUN":           "true",
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": "a,b",
	}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.NATS.URLs) != 2 || c.NATS.URLs[1] != "nats://y:2" || c.PagerDuty.Token.Reveal() != "from-env" ||
		c.Worker.AckWait != 45*time.Second || !c.Safety.DryRun || len(c.Receiver.WebhookSecrets) != 2 {
		t.Errorf("env not applied: %+v", c)
	}
	_, err = Load("", func(k string) string {
		if k == "ALAYA_WORKER_CONCURRENCY" {
			return "many"
		}
		return env[k]
	})
	if err == nil || !strings.Contains(err.Error(), "ALAYA_WORKER_CONCURRENCY") {
		t.Errorf("bad env value: err = %v, want it to name the variable", err)
	}
}

func TestEnvNamesCoverEveryKey(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"ALAYA_NATS_URLS", "ALAYA_PAGERDUTY_TOKEN_FILE", "ALAYA_EVIDENCE_PATH_STYLE", "ALAYA_NATS_DUPLICATES"} {
		if !strings.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := Load("testdata/good.yaml", noenv)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "cfg", c, "token", c.PagerDuty.Token)
	js, _ := json.Marshal(c)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"json": string(js), "slog": logBuf.String(),
	}
	for name, out := range outputs {
		for _, secret := range c.Secrets() {
			if strings.Contains(out, secret) {
				t.Errorf("%s output leaks secret %q: %s", name, secret, out)
			}
		}
	}
	if len(c.Secrets()) != 3 {
		t.Errorf("Secrets() = %d values, want the token and two webhook secrets", len(c.Secrets()))
	}
}
