package slack_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/slack"
)

// pressPayload is a block_actions payload as Slack's documentation shows one, with the fields
// Alaya reads; edit changes it before encoding.
func pressPayload(edit func(string) string) []byte {
	p := `{"type":"block_actions","user":{"id":"U0ONCALL1","username":"ana","name":"ana","team_id":"T0TEAM1"},` +
		`"api_app_id":"A0APP","token":"unused","container":{"type":"message","message_ts":"1764500000.000200",` +
		`"channel_id":"C0ALERTS","is_ephemeral":false,"thread_ts":"1764500000.000100"},` +
		`"trigger_id":"1764500001.42.abcdef0123456789","team":{"id":"T0TEAM1","domain":"acme"},` +
		`"channel":{"id":"C0ALERTS","name":"alerts"},"message":{"type":"message","ts":"1764500000.000200",` +
		`"thread_ts":"1764500000.000100","text":"gate"},"response_url":"https://hooks.slack.com/actions/T0TEAM1/1/abc",` +
		`"actions":[{"action_id":"approve","block_id":"gate","value":"approve|Q1ABC|K7Q2XA","type":"button",` +
		`"action_ts":"1764500001.123456","text":{"type":"plain_text","text":"Approve"}}]}`
	if edit != nil {
		p = edit(p)
	}
	return []byte(url.Values{"payload": {p}}.Encode())
}

func TestParseInteraction(t *testing.T) {
	in, err := slack.ParseInteraction(pressPayload(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := slack.Interaction{Team: "T0TEAM1", User: "U0ONCALL1", UserName: "ana", ActionID: "approve",
		Value: "approve|Q1ABC|K7Q2XA", Channel: "C0ALERTS", MessageTS: "1764500000.000200", ThreadTS: "1764500000.000100",
		ResponseURL: "https://hooks.slack.com/actions/T0TEAM1/1/abc", TriggerID: "1764500001.42.abcdef0123456789",
		ActionTS: "1764500001.123456"}
	if *in != want {
		t.Errorf("got  %+v\nwant %+v", *in, want)
	}
	if in.EventID() != "slack-1764500001.42.abcdef0123456789" {
		t.Errorf("EventID = %q", in.EventID())
	}
}

func TestParseInteractionTopLevelMessage(t *testing.T) {
	in, err := slack.ParseInteraction(pressPayload(func(p string) string {
		return strings.ReplaceAll(p, `,"thread_ts":"1764500000.000100"`, "")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if in.ThreadTS != "" {
		t.Errorf("ThreadTS = %q, want none", in.ThreadTS)
	}
}

func TestParseInteractionRefuses(t *testing.T) {
	replace := func(old, new string) func(string) string {
		return func(p string) string {
			if !strings.Contains(p, old) {
				t.Fatalf("payload has no %q", old)
			}
			return strings.ReplaceAll(p, old, new)
		}
	}
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"not a form", []byte("%zz"), slack.ErrMalformedPayload},
		{"no payload", []byte("x=1"), slack.ErrMalformedPayload},
		{"two payloads", append(pressPayload(nil), append([]byte("&"), pressPayload(nil)...)...), slack.ErrMalformedPayload},
		{"an extra field", append(pressPayload(nil), []byte("&token=x")...), slack.ErrMalformedPayload},
		{"payload not JSON", []byte("payload=%7B"), slack.ErrMalformedPayload},
		{"a modal submission", pressPayload(replace(`"type":"block_actions"`, `"type":"view_submission"`)), slack.ErrNotBlockActions},
		{"no actions", pressPayload(func(p string) string { return p[:strings.Index(p, `,"actions"`)] + `,"actions":[]}` }), slack.ErrMalformedPayload},
		{"two actions", pressPayload(func(p string) string {
			i := strings.Index(p, `[{"action_id"`)
			a := p[i+1 : len(p)-2]
			return p[:i] + "[" + a + "," + a + "]}"
		}), slack.ErrMalformedPayload},
		{"no user", pressPayload(replace(`"id":"U0ONCALL1"`, `"id":""`)), slack.ErrMalformedPayload},
		{"user id lower case", pressPayload(replace(`"id":"U0ONCALL1"`, `"id":"u0oncall1"`)), slack.ErrMalformedPayload},
		{"bot id as user", pressPayload(replace(`"id":"U0ONCALL1"`, `"id":"B0BOT"`)), slack.ErrMalformedPayload},
		{"no team", pressPayload(replace(`"team":{"id":"T0TEAM1"`, `"team":{"id":""`)), slack.ErrMalformedPayload},
		{"channel not an id", pressPayload(func(p string) string { return strings.ReplaceAll(p, `"C0ALERTS"`, `"#alerts"`) }), slack.ErrMalformedPayload},
		{"message ts not a ts", pressPayload(func(p string) string { return strings.ReplaceAll(p, `"1764500000.000200"`, `"now"`) }), slack.ErrMalformedPayload},
		{"action ts missing", pressPayload(replace(`"action_ts":"1764500001.123456",`, ``)), slack.ErrMalformedPayload},
		{"action id missing", pressPayload(replace(`"action_id":"approve",`, ``)), slack.ErrMalformedPayload},
		{"response url relative", pressPayload(replace(`"https://hooks.slack.com/actions/T0TEAM1/1/abc"`, `"/actions/x"`)), slack.ErrMalformedPayload},
		{"response url file", pressPayload(replace(`"https://hooks.slack.com/actions/T0TEAM1/1/abc"`, `"file:///etc/passwd"`)), slack.ErrMalformedPayload},
		{"value too long", pressPayload(replace(`"approve|Q1ABC|K7Q2XA"`, `"`+strings.Repeat("v", 2001)+`"`)), slack.ErrMalformedPayload},
		{"body too large", append(pressPayload(nil), make([]byte, slack.MaxInteractionBody)...), slack.ErrInteractionTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := slack.ParseInteraction(tc.body)
			if !errors.Is(err, tc.want) || in != nil {
				t.Errorf("ParseInteraction = %+v, %v; want %v", in, err, tc.want)
			}
		})
	}
}
