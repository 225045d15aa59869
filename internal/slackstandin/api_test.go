package slackstandin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/slackstandin"
)

// call sends a raw Web API request and returns Slack's answer.
func call(t *testing.T, s *slackstandin.Server, httpMethod, method, contentType, body, auth string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), httpMethod, s.URL()+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("answer %q: %v", data, err)
	}
	return out
}

const jsonCT = "application/json; charset=utf-8"

// TestRefusesWhatTheDescriptionDoesNotAllow: each refusal is Slack's error shape and is
// recorded as a violation (a test failure unless ExpectRefusals).
func TestRefusesWhatTheDescriptionDoesNotAllow(t *testing.T) {
	bearer := "Bearer " + slackstandin.DefaultToken
	for _, tc := range []struct {
		name, httpMethod, method, ct, body, auth, code string
	}{
		{"unknown method", "POST", "chat.postEphemeral", jsonCT, `{"channel":"C01","text":"x","user":"U1"}`, bearer, "unknown_method"},
		{"no token", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x"}`, "", "not_authed"},
		{"wrong token", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x"}`, "Bearer xoxb-wrong", "invalid_auth"},
		{"token not bearer", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x"}`, slackstandin.DefaultToken, "invalid_auth"},
		{"token in the body", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x","token":"` + slackstandin.DefaultToken + `"}`, bearer, "invalid_arguments"},
		{"token in the query", "GET", "users.info?user=U1&token=" + slackstandin.DefaultToken, "", "", bearer, "invalid_auth"},
		{"missing required channel", "POST", "chat.postMessage", jsonCT, `{"text":"x"}`, bearer, "invalid_arguments"},
		{"missing required ts", "POST", "chat.update", jsonCT, `{"channel":"C01","text":"x"}`, bearer, "invalid_arguments"},
		{"missing required email", "GET", "users.lookupByEmail", "", "", bearer, "invalid_arguments"},
		{"unknown parameter", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x","colour":"red"}`, bearer, "invalid_arguments"},
		{"wrong type: boolean as string in JSON", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"x","mrkdwn":"yes"}`, bearer, "invalid_arguments"},
		{"wrong type: channel as number", "POST", "chat.postMessage", jsonCT, `{"channel":7,"text":"x"}`, bearer, "invalid_arguments"},
		{"wrong type: boolean in a form", "POST", "chat.postMessage", "application/x-www-form-urlencoded", "channel=C01&text=x&mrkdwn=maybe", bearer, "invalid_arguments"},
		{"wrong type: text as array", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":["x"]}`, bearer, "invalid_arguments"},
		{"users.info by POST", "POST", "users.info", jsonCT, `{"user":"U1"}`, bearer, "invalid_arguments"},
		{"chat.postMessage by GET", "GET", "chat.postMessage?channel=C01&text=x", "", "", bearer, "invalid_arguments"},
		{"JSON without charset", "POST", "chat.postMessage", "application/json", `{"channel":"C01","text":"x"}`, bearer, "invalid_arguments"},
		{"text/plain body", "POST", "chat.postMessage", "text/plain", `channel=C01`, bearer, "invalid_arguments"},
		{"repeated form parameter", "POST", "chat.postMessage", "application/x-www-form-urlencoded", "channel=C01&channel=C02&text=x", bearer, "invalid_arguments"},
		{"no text and no blocks", "POST", "chat.postMessage", jsonCT, `{"channel":"C01"}`, bearer, "no_text"},
		{"text over 40000 characters", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"` + strings.Repeat("a", 40001) + `"}`, bearer, "msg_too_long"},
		{"section over 3000 characters", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 3001) + `"}}]}`, bearer, "invalid_blocks"},
		{"unknown block type", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","blocks":[{"type":"carousel"}]}`, bearer, "invalid_blocks"},
		{"button without action_id", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","blocks":[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Go"}}]}]}`, bearer, "invalid_blocks"},
		{"button label mrkdwn", "POST", "chat.postMessage", jsonCT, `{"channel":"C01","blocks":[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"mrkdwn","text":"Go"}}]}]}`, bearer, "invalid_blocks"},
		{"blocks not JSON in a form", "POST", "chat.postMessage", "application/x-www-form-urlencoded", "channel=C01&blocks=%5B", bearer, "invalid_blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := slackstandin.New(t, slackstandin.ExpectRefusals())
			ans := call(t, s, tc.httpMethod, tc.method, tc.ct, tc.body, tc.auth)
			if ans["ok"] != false || ans["error"] != tc.code {
				t.Errorf("answer %v, want ok:false error:%s", ans, tc.code)
			}
			if len(s.Violations()) == 0 && tc.code != "no_text" {
				t.Error("no violation recorded")
			}
		})
	}
}

// TestAcceptsWhatSlackAccepts: a form post, JSON blocks as an array, and GET lookups.
func TestAcceptsWhatSlackAccepts(t *testing.T) {
	s := slackstandin.New(t)
	s.AddUser(slackstandin.User{ID: "U0ANA", Email: "ana@example.com"})
	bearer := "Bearer " + slackstandin.DefaultToken
	blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"*x*"}},{"type":"actions","elements":[{"type":"button","action_id":"approve","text":{"type":"plain_text","text":"Approve","emoji":true},"value":"v","style":"primary"}]}]`
	form := url.Values{"channel": {"C01"}, "text": {"x"}, "blocks": {blocks}, "unfurl_links": {"false"}}.Encode()
	top := call(t, s, "POST", "chat.postMessage", "application/x-www-form-urlencoded", form, bearer)
	if top["ok"] != true || top["ts"] == "" {
		t.Fatalf("form post: %v", top)
	}
	reply := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"C01","thread_ts":"`+top["ts"].(string)+`","text":"r","blocks":`+blocks+`}`, bearer)
	if reply["ok"] != true {
		t.Fatalf("JSON post: %v", reply)
	}
	upd := call(t, s, "POST", "chat.update", jsonCT, `{"channel":"C01","ts":"`+top["ts"].(string)+`","text":"y"}`, bearer)
	if upd["ok"] != true || upd["text"] != "y" {
		t.Fatalf("update: %v", upd)
	}
	u := call(t, s, "GET", "users.lookupByEmail?email=ana%40example.com", "", "", bearer)
	if u["ok"] != true || u["user"].(map[string]any)["id"] != "U0ANA" {
		t.Fatalf("lookup: %v", u)
	}
	if got := s.Thread("C01", top["ts"].(string)); len(got) != 1 || got[0].Text != "r" {
		t.Errorf("thread = %+v", got)
	}
}

func TestRefusesReplyToNoMessageAndChannelNames(t *testing.T) {
	s := slackstandin.New(t, slackstandin.ExpectRefusals())
	bearer := "Bearer " + slackstandin.DefaultToken
	if a := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"C01","thread_ts":"1.000001","text":"x"}`, bearer); a["error"] != "thread_not_found" {
		t.Errorf("reply to nothing: %v", a)
	}
	if a := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"#alerts","text":"x"}`, bearer); a["error"] != "channel_not_found" {
		t.Errorf("channel name: %v", a)
	}
	if a := call(t, s, "POST", "chat.update", jsonCT, `{"channel":"C01","ts":"1.000001","text":"x"}`, bearer); a["error"] != "message_not_found" {
		t.Errorf("update of nothing: %v", a)
	}
}

func TestEnforceChannelRate(t *testing.T) {
	s := slackstandin.New(t, slackstandin.EnforceChannelRate(time.Hour, 9))
	bearer := "Bearer " + slackstandin.DefaultToken
	if a := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"1"}`, bearer); a["ok"] != true {
		t.Fatalf("first: %v", a)
	}
	if a := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"C01","text":"2"}`, bearer); a["error"] != "ratelimited" {
		t.Errorf("second within the interval: %v", a)
	}
	if a := call(t, s, "POST", "chat.postMessage", jsonCT, `{"channel":"C02","text":"1"}`, bearer); a["ok"] != true {
		t.Errorf("another channel: %v", a)
	}
	if s.RateLimited() != 1 {
		t.Errorf("RateLimited = %d, want 1", s.RateLimited())
	}
}
