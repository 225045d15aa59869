package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

// Slack is the Slack app Alaya posts run threads with and receives button presses from
// (docs/OPERATIONS.md, "Slack"). Without a token Alaya posts nothing to Slack; without
// signing secrets the receiver has no /v1/slack/interactions route.
type Slack struct {
	Token     Secret `yaml:"token"`      // the bot token, xoxb-…; prefer token_file or ALAYA_SLACK_TOKEN
	TokenFile string `yaml:"token_file"` // a file holding the bot token
	// SigningSecrets verify requests from Slack; several during a rotation. Prefer
	// signing_secret_files or ALAYA_SLACK_SIGNING_SECRETS (comma-separated).
	SigningSecrets     []Secret `yaml:"signing_secrets"`
	SigningSecretFiles []string `yaml:"signing_secret_files"` // one secret per file
	APIURL             string   `yaml:"api_url"`              // https://slack.com/api/
	// ResponseURLHosts are the only hosts (or scheme://host:port origins) Alaya posts an
	// interaction's answer to, whatever the payload names: [hooks.slack.com].
	ResponseURLHosts []string `yaml:"response_url_hosts"`
	Channel          string   `yaml:"channel"` // the channel id (C…) runs post to unless a runbook or service says otherwise
	// ServiceChannels maps a PagerDuty service id to the channel id its incidents' runs post to.
	ServiceChannels map[string]string `yaml:"service_channels"`
	UserGroup       string            `yaml:"user_group"` // a user group id (S…) mentioned with the on-call
	// Team is the workspace id (T…) presses are taken from; a press signed by this app from
	// any other workspace it is installed in is refused. Empty: any workspace.
	Team string `yaml:"team"`
}

// Enabled reports whether Alaya posts to Slack.
func (s Slack) Enabled() bool { return s.Token != "" }

// Interactive reports whether the receiver takes Slack button presses.
func (s Slack) Interactive() bool { return len(s.SigningSecrets) > 0 }

// ChannelFor returns the channel for an incident of service: its service_channels entry, else
// channel ("" when neither is set).
func (s Slack) ChannelFor(service string) string {
	if ch, ok := s.ServiceChannels[service]; ok {
		return ch
	}
	return s.Channel
}

func (s *Slack) defaults() {
	setDefault(&s.APIURL, "https://slack.com/api/")
	if len(s.ResponseURLHosts) == 0 {
		s.ResponseURLHosts = []string{"hooks.slack.com"}
	}
}

// readSlackSecrets fills the token and signing secrets from their files, unless given inline
// or through the environment.
func (c *Config) readSlackSecrets() error {
	s := &c.Slack
	if s.Token == "" && s.TokenFile != "" {
		v, err := readSecretFile(s.TokenFile)
		if err != nil {
			return fmt.Errorf("config: slack.token_file: %w", err)
		}
		s.Token = Secret(v)
	}
	if len(s.SigningSecrets) == 0 && len(s.SigningSecretFiles) > 0 {
		for i, f := range s.SigningSecretFiles {
			v, err := readSecretFile(f)
			if err != nil {
				return fmt.Errorf("config: slack.signing_secret_files[%d]: %w", i, err)
			}
			s.SigningSecrets = append(s.SigningSecrets, Secret(v))
		}
		c.readFrom("slack.signing_secrets")
	}
	return nil
}

// Shapes of Slack ids: channels (public C…, private G…) and user groups (S…).
var (
	slackChannel   = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	slackUserGroup = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	slackTeam      = regexp.MustCompile(`^[TE][A-Z0-9]{2,}$`)
)

// validateSlack checks the slack section; each problem names its key.
func (c *Config) validateSlack(errs *yamlfile.List, at func(string) yamlfile.Pos) {
	s := c.Slack
	key := "slack.signing_secrets"
	if c.fromFile[key] {
		key = "slack.signing_secret_files"
	}
	for i, sec := range s.SigningSecrets {
		if n := len(sec); n < minSharedSecret {
			errs.Add(at(fmt.Sprintf("%s[%d]", key, i)), "%s[%d]: %d bytes, need at least %d", key, i, n, minSharedSecret)
		}
	}
	if u, err := url.Parse(s.APIURL); err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		errs.Add(at("slack.api_url"), "slack.api_url %q: expected an https URL such as https://slack.com/api/ (http only for a loopback address)", s.APIURL)
	}
	for i, h := range s.ResponseURLHosts {
		if err := checkResponseHost(h); err != nil {
			errs.Add(at(fmt.Sprintf("slack.response_url_hosts[%d]", i)), "slack.response_url_hosts[%d] %q: %v", i, h, err)
		}
	}
	if s.Channel != "" && !slackChannel.MatchString(s.Channel) {
		errs.Add(at("slack.channel"), "slack.channel %q: expected a channel id such as C0123ABCD (chat.update needs ids, and ids survive renames)", s.Channel)
	}
	services := make([]string, 0, len(s.ServiceChannels))
	for svc := range s.ServiceChannels {
		services = append(services, svc)
	}
	slices.Sort(services)
	for _, svc := range services {
		if ch := s.ServiceChannels[svc]; !slackChannel.MatchString(ch) {
			errs.Add(at("slack.service_channels."+svc), "slack.service_channels.%s %q: expected a channel id such as C0123ABCD", svc, ch)
		}
	}
	if s.UserGroup != "" && !slackUserGroup.MatchString(s.UserGroup) {
		errs.Add(at("slack.user_group"), "slack.user_group %q: expected a user group id such as S0123ABCD", s.UserGroup)
	}
	if s.Team != "" && !slackTeam.MatchString(s.Team) {
		errs.Add(at("slack.team"), "slack.team %q: expected a workspace id such as T0123ABCD", s.Team)
	}
}

// checkResponseHost accepts a host name (https implied) or an origin; http only on loopback.
func checkResponseHost(h string) error {
	raw := h
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil:
		return fmt.Errorf("expected a host name such as hooks.slack.com or an origin such as https://host:port")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("http only for a loopback address: a response URL is a credential")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme %q: expected https", u.Scheme)
	}
	return nil
}
