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
// chat:write:bot is today's chat:write), and asks for no scope beyond them.
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
	var needed []string
	for name, method := range spec.Methods {
		i := slices.IndexFunc(method.Scopes, func(s string) bool { return !strings.HasSuffix(s, ":user") })
		if i < 0 {
			t.Fatalf("%s: no bot scope in %v", name, method.Scopes)
		}
		scope := strings.TrimSuffix(method.Scopes[i], ":bot")
		needed = append(needed, scope)
		if !slices.Contains(granted, scope) {
			t.Errorf("%s needs %s, which the manifest does not grant", name, scope)
		}
	}
	for _, s := range granted {
		if !slices.Contains(needed, s) {
			t.Errorf("the manifest grants %s, which no method Alaya calls needs", s)
		}
	}
	if !strings.HasSuffix(m.Settings.Interactivity.RequestURL, "/v1/slack/interactions") {
		t.Errorf("interactivity request_url %q is not the receiver's route", m.Settings.Interactivity.RequestURL)
	}
}
