package slackstandin

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAppManifestGrantsEveryMethodsScope: the Slack app deploy/slack/app-manifest.yaml
// creates may call every method the stand-in serves (the scopes are the description's; its
// chat:write:bot is today's chat:write), and asks for no scope beyond them. Where a method
// lists one scope per kind of conversation (conversations.history: channels:history,
// groups:history, …), the first (public channels) is needed and the others may be granted.
func TestAppManifestGrantsEveryMethodsScope(t *testing.T) {
	data, err := os.ReadFile("../../deploy/slack/app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	granted := m.OAuth.Scopes.Bot
	var allowed []string // the first bot scope of each method is needed, the others allowed
	for name, method := range spec.Methods {
		var bot []string
		for _, s := range method.Scopes {
			if !strings.HasSuffix(s, ":user") {
				bot = append(bot, strings.TrimSuffix(s, ":bot"))
			}
		}
		if len(bot) == 0 {
			t.Fatalf("%s: no bot scope in %v", name, method.Scopes)
		}
		allowed = append(allowed, bot...)
		if !slices.Contains(granted, bot[0]) {
			t.Errorf("%s needs %s, which the manifest does not grant", name, bot[0])
		}
	}
	for _, s := range granted {
		if !slices.Contains(allowed, s) {
			t.Errorf("the manifest grants %s, which no method Alaya calls needs", s)
		}
	}
	if !strings.HasSuffix(m.Settings.Interactivity.RequestURL, "/v1/slack/interactions") {
		t.Errorf("interactivity request_url %q is not the receiver's route", m.Settings.Interactivity.RequestURL)
	}
}
