package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Secret is a credential. It prints as a placeholder in logs, errors and JSON, so passing a
// config around can never leak one; Reveal is the only way to the value.
type Secret string

const redacted = "<secret>"

// Reveal returns the secret's value, for the one call that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON writes the placeholder.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText writes the placeholder (used by slog's JSON handler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// readSecrets fills secrets from their *_file settings. A value given inline or through the
// environment wins over a file, so an operator can override one without editing the file.
func (c *Config) readSecrets() error {
	if c.PagerDuty.Token == "" && c.PagerDuty.TokenFile != "" {
		v, err := readSecretFile(c.PagerDuty.TokenFile)
		if err != nil {
			return fmt.Errorf("config: pagerduty.token_file: %w", err)
		}
		c.PagerDuty.Token = Secret(v)
	}
	if c.Receiver.LinkKey == "" && c.Receiver.LinkKeyFile != "" {
		v, err := readSecretFile(c.Receiver.LinkKeyFile)
		if err != nil {
			return fmt.Errorf("config: receiver.link_key_file: %w", err)
		}
		c.Receiver.LinkKey = Secret(v)
		c.readFrom("receiver.link_key")
	}
	if c.NATS.Password == "" && c.NATS.PasswordFile != "" {
		v, err := readSecretFile(c.NATS.PasswordFile)
		if err != nil {
			return fmt.Errorf("config: nats.password_file: %w", err)
		}
		c.NATS.Password = Secret(v)
	}
	if len(c.Receiver.WebhookSecrets) == 0 && c.Receiver.WebhookSecretsFile != "" {
		v, err := readSecretFile(c.Receiver.WebhookSecretsFile)
		if err != nil {
			return fmt.Errorf("config: receiver.webhook_secrets_file: %w", err)
		}
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				c.Receiver.WebhookSecrets = append(c.Receiver.WebhookSecrets, Secret(line))
			}
		}
		c.readFrom("receiver.webhook_secrets")
	}
	return c.readSlackSecrets()
}

// readFrom records that the secret at key came from its *_file, for messages about it.
func (c *Config) readFrom(key string) {
	if c.fromFile == nil {
		c.fromFile = map[string]bool{}
	}
	c.fromFile[key] = true
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Secrets returns every secret value the config holds, for the evidence redactor: whatever
// else goes wrong, none of these may appear in evidence or notes.
func (c *Config) Secrets() []string {
	var out []string
	all := slices.Concat([]Secret{c.PagerDuty.Token, c.Receiver.AlertmanagerToken, c.Receiver.LinkKey, c.NATS.Password, c.Slack.Token},
		c.Receiver.WebhookSecrets, c.Slack.SigningSecrets)
	for _, s := range all {
		if s != "" {
			out = append(out, s.Reveal())
		}
	}
	return out
}
