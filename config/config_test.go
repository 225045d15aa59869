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
	if got := c.Receiver.WebhookSecrets; len(got) != 2 || got[0].Reveal() != "rotating-old-0123456789" || got[1].Reveal() != "rotating-new-0123456789" {
		t.Errorf("webhook secrets = %v", got)
	}
	if want, _ := filepath.Abs("testdata/runbooks"); c.Worker.Runbooks != filepath.Join("testdata", "runbooks") && c.Worker.Runbooks != want {
		t.Errorf("runbooks path %q not resolved against the config file", c.Worker.Runbooks)
	}
	if c.PageMode() != "jwt" || c.Receiver.Page.JWT.MaxAge != 5*time.Minute || c.Receiver.Page.JWT.Claim != "email" ||
		!strings.HasSuffix(c.Receiver.Page.JWT.JWKSFile, filepath.Join("testdata", "proxy-jwks.json")) {
		t.Errorf("page = %s %+v", c.PageMode(), c.Receiver.Page.JWT)
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
			`receiver.page.header.trusted_proxies: 10.0.0.0/8 is wider than /24`,
			`receiver.page.header.trusted_proxies: "10.0.0.0/33" is neither a CIDR`,
			`testdata/bad_values.yaml:11:9: pagerduty.from "not-an-email"`,
		}},
		{"bad_secrets.yaml", []string{
			`testdata/bad_secrets.yaml:3:17: receiver.admin_listen ":8080": must differ from receiver.listen`,
			`testdata/bad_secrets.yaml:4:15: receiver.public_url "http://alaya.example.com": must be https`,
			`testdata/bad_secrets.yaml:5:20: receiver.webhook_secrets[1]: 4 bytes, need at least 16`,
			`testdata/bad_secrets.yaml:6:23: receiver.alertmanager_token: 5 bytes, need at least 16`,
			`testdata/bad_secrets.yaml:7:18: receiver.link_key_file: 5 bytes, need at least 32`,
		}},
		{"bad_object_lock.yaml", []string{
			`testdata/bad_object_lock.yaml:4:11: evidence.object_lock.mode "legal": expected GOVERNANCE or COMPLIANCE`,
			`testdata/bad_object_lock.yaml:5:11: evidence.object_lock.days 0: expected 1 to 3650`,
			`evidence.object_lock needs evidence.bucket`,
		}},
		{"bad_nats.yaml", []string{
			`testdata/bad_nats.yaml:2:3: nats: set only one of credentials, nkey_seed_file, or user and password`,
			`testdata/bad_nats.yaml:3:16: nats.credentials: stat testdata/missing.creds: no such file or directory`,
			`testdata/bad_nats.yaml:4:9: nats.user: set nats.password or nats.password_file too`,
			`testdata/bad_nats.yaml:5:19: nats.nkey_seed_file: testdata/secrets.txt: not an nkey seed`,
			`testdata/bad_nats.yaml:7:14: nats.tls.ca_file: open testdata/missing-ca.pem: no such file or directory`,
			`testdata/bad_nats.yaml:8:16: nats.tls.key_file: required with nats.tls.cert_file`,
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
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": "secret-a-0123456789,secret-b-0123456789",
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

// The page trusts a proxy only when it is set up to prove itself, on its own listener.
func TestPageTrustValidation(t *testing.T) {
	base := map[string]string{"ALAYA_EVIDENCE_DIR": "/var/lib/alaya", "ALAYA_RECEIVER_PAGE_LISTEN": "127.0.0.1:8081"}
	jwt := map[string]string{"ALAYA_RECEIVER_PAGE_JWT_HEADER": "Cf-Access-Jwt-Assertion", "ALAYA_RECEIVER_PAGE_JWT_ISSUER": "https://x.cloudflareaccess.com",
		"ALAYA_RECEIVER_PAGE_JWT_AUDIENCE": "aud-tag", "ALAYA_RECEIVER_PAGE_JWT_JWKS_FILE": "/etc/alaya/jwks.json"}
	tests := []struct {
		name string
		env  map[string]string
		want string // "" loads
	}{
		{"signed assertions", jwt, ""},
		{"assertion without audience", map[string]string{"ALAYA_RECEIVER_PAGE_JWT_HEADER": "h", "ALAYA_RECEIVER_PAGE_JWT_ISSUER": "i", "ALAYA_RECEIVER_PAGE_JWT_JWKS_FILE": "/k"}, "needs header, issuer, audience"},
		{"max age of a day", merge(jwt, map[string]string{"ALAYA_RECEIVER_PAGE_JWT_MAX_AGE": "24h"}), "max_age"},
		{"mutual TLS", map[string]string{"ALAYA_RECEIVER_PAGE_MTLS_CERT_FILE": "/c", "ALAYA_RECEIVER_PAGE_MTLS_KEY_FILE": "/k", "ALAYA_RECEIVER_PAGE_MTLS_CLIENT_CA_FILE": "/ca"}, ""},
		{"two modes", merge(jwt, map[string]string{"ALAYA_RECEIVER_PAGE_HEADER_TRUSTED_PROXIES": "10.1.2.3"}), "set one of jwt, mtls or header"},
		{"header from one address", map[string]string{"ALAYA_RECEIVER_PAGE_HEADER_TRUSTED_PROXIES": "10.1.2.3, 2001:db8::/64"}, ""},
		{"header from a /8", map[string]string{"ALAYA_RECEIVER_PAGE_HEADER_TRUSTED_PROXIES": "10.0.0.0/8"}, "wider than /24"},
		{"header from everywhere", map[string]string{"ALAYA_RECEIVER_PAGE_HEADER_TRUSTED_PROXIES": "::/0"}, "wider than /64"},
		{"page on the webhook listener", merge(jwt, map[string]string{"ALAYA_RECEIVER_PAGE_LISTEN": ":8080"}), "must differ from receiver.listen"},
		{"trust without a listener", merge(jwt, map[string]string{"ALAYA_RECEIVER_PAGE_LISTEN": ""}), "has no listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := merge(base, tt.env)
			_, err := Load("", func(k string) string { return env[k] })
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Load: %v, want %q", err, tt.want)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
