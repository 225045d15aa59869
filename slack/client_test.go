package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/slack"
)

const channel = "C0ALERTS"

func TestPostThreadAndUpdate(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	top, err := c.PostMessage(ctx, slack.Message{Channel: channel, Text: "Disk full on web-1",
		Blocks: []slack.Block{slack.Section("*Disk full on web-1*"), slack.Context("runbook `disk-full`", "diagnosing")}})
	if err != nil {
		t.Fatal(err)
	}
	gate := slack.Actions(
		slack.Button{ActionID: "approve", Text: "Approve", Value: slack.ButtonValue("approve", "Q1ABC", "K7Q2XA"), Style: "primary"},
		slack.Button{ActionID: "reject", Text: "Reject", Value: slack.ButtonValue("reject", "Q1ABC", "K7Q2XA"), Style: "danger"})
	reply, err := c.PostMessage(ctx, slack.Message{Channel: channel, ThreadTS: top, Text: "Plan", Blocks: []slack.Block{slack.Section("plan"), gate}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateMessage(ctx, channel, top, slack.Message{Text: "Disk full on web-1: waiting for approval"}); err != nil {
		t.Fatal(err)
	}
	thread := sl.Thread(channel, top)
	if len(thread) != 1 || thread[0].TS != reply {
		t.Fatalf("thread = %+v, want the reply %s", thread, reply)
	}
	if b := thread[0].Buttons(); b["approve"] != "approve|Q1ABC|K7Q2XA" || b["reject"] != "reject|Q1ABC|K7Q2XA" {
		t.Errorf("buttons = %v", b)
	}
	m, _ := sl.Message(channel, top)
	if len(m.Versions) != 2 || m.Text != "Disk full on web-1: waiting for approval" {
		t.Errorf("top message = %+v, want its update", m)
	}
}

func TestLookups(t *testing.T) {
	sl := slackstandin.New(t)
	sl.AddUser(slackstandin.User{ID: "U0ONCALL1", Email: "ana@example.com"})
	sl.AddUser(slackstandin.User{ID: "U0GONE", Email: "gone@example.com", Deleted: true})
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	if id, err := c.LookupUserByEmail(ctx, "Ana@example.com"); err != nil || id != "U0ONCALL1" {
		t.Errorf("LookupUserByEmail = %q, %v", id, err)
	}
	if email, err := c.UserEmail(ctx, "U0ONCALL1"); err != nil || email != "ana@example.com" {
		t.Errorf("UserEmail = %q, %v", email, err)
	}
	var ae *slack.APIError
	if _, err := c.LookupUserByEmail(ctx, "nobody@example.com"); !errors.As(err, &ae) || ae.Code != "users_not_found" || slack.Temporary(err) {
		t.Errorf("unknown email: %v, want permanent users_not_found", err)
	}
	if _, err := c.UserEmail(ctx, "U0NOBODY"); !errors.As(err, &ae) || ae.Code != "user_not_found" || slack.Temporary(err) {
		t.Errorf("unknown user: %v, want permanent user_not_found", err)
	}
	if _, err := c.UserEmail(ctx, "U0GONE"); err == nil || slack.Temporary(err) {
		t.Errorf("deactivated user: %v, want a permanent error", err)
	}
}

func TestGroupMembers(t *testing.T) {
	sl := slackstandin.New(t)
	sl.AddGroup("S0ONCALL", "U0ANA", "U0BEN")
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	if got, err := c.GroupMembers(ctx, "S0ONCALL"); err != nil || len(got) != 2 || got[0] != "U0ANA" || got[1] != "U0BEN" {
		t.Errorf("GroupMembers = %v, %v", got, err)
	}
	var ae *slack.APIError
	if _, err := c.GroupMembers(ctx, "S0NONE"); !errors.As(err, &ae) || ae.Code != "no_such_subteam" || slack.Temporary(err) {
		t.Errorf("unknown group: %v, want permanent no_such_subteam", err)
	}
}

// TestFailuresClassified: each way Slack can fail is one class, decided in the client.
func TestFailuresClassified(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          slackstandin.Failure
		temporary  bool
		retryAfter time.Duration
		code       string
	}{
		{"429 with Retry-After", slackstandin.Failure{Status: 429, RetryAfter: 7}, true, 7 * time.Second, ""},
		{"ratelimited code", slackstandin.Failure{Error: "ratelimited"}, true, 0, "ratelimited"},
		{"internal_error", slackstandin.Failure{Error: "internal_error"}, true, 0, "internal_error"},
		{"service_unavailable", slackstandin.Failure{Error: "service_unavailable"}, true, 0, "service_unavailable"},
		{"HTTP 503", slackstandin.Failure{Status: 503}, true, 0, ""},
		{"connection dropped", slackstandin.Failure{}, true, 0, ""},
		{"invalid_auth", slackstandin.Failure{Error: "invalid_auth"}, false, 0, "invalid_auth"},
		{"channel_not_found", slackstandin.Failure{Error: "channel_not_found"}, false, 0, "channel_not_found"},
		{"not_in_channel", slackstandin.Failure{Error: "not_in_channel"}, false, 0, "not_in_channel"},
		{"msg_too_long", slackstandin.Failure{Error: "msg_too_long"}, false, 0, "msg_too_long"},
		{"a code Slack adds later", slackstandin.Failure{Error: "something_new"}, false, 0, "something_new"},
		{"HTTP 400", slackstandin.Failure{Status: 400}, false, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sl := slackstandin.New(t)
			c, _, reg := newClient(t, sl, nil)
			sl.FailNext("chat.postMessage", 1, tc.f)
			_, err := c.PostMessage(testContext(t), slack.Message{Channel: channel, Text: "x"})
			if err == nil {
				t.Fatal("no error")
			}
			if slack.Temporary(err) != tc.temporary {
				t.Errorf("Temporary(%v) = %v, want %v", err, !tc.temporary, tc.temporary)
			}
			if d, _ := slack.RetryAfter(err); d != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", d, tc.retryAfter)
			}
			var ae *slack.APIError
			if tc.code != "" && (!errors.As(err, &ae) || ae.Code != tc.code) {
				t.Errorf("error %v, want code %s", err, tc.code)
			}
			if got := callOutcomes(t, reg); len(got) != 1 || got[0] != outcomeOf(tc.temporary, tc.retryAfter) {
				t.Errorf("alaya_slack_calls_total outcomes %v, want [%s]", got, outcomeOf(tc.temporary, tc.retryAfter))
			}
		})
	}
}

// TestLongMessagesClipped: a report far over Slack's limits still posts, cut with a mark.
func TestLongMessagesClipped(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	long := strings.Repeat("ö", 50000)
	blocks := []slack.Block{slack.Section(long), slack.Context(long), slack.Actions(slack.Button{ActionID: "approve", Text: long, Value: "approve|Q1|K7Q2XA"})}
	for range 60 {
		blocks = append(blocks, slack.Section("x"))
	}
	ts, err := c.PostMessage(testContext(t), slack.Message{Channel: channel, Text: long, Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := sl.Message(channel, ts)
	if !strings.HasSuffix(m.Text, "… (clipped)") || len([]rune(m.Text)) != slack.MaxTextLen {
		t.Errorf("text of %d characters, want %d ending in the mark", len([]rune(m.Text)), slack.MaxTextLen)
	}
	var got []json.RawMessage
	if err := json.Unmarshal(m.Blocks, &got); err != nil || len(got) != slack.MaxBlocks {
		t.Errorf("%d blocks (%v), want %d", len(got), err, slack.MaxBlocks)
	}
}

func TestRateLimitHoldsTheChannel(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, func(cfg *slack.Config) { cfg.ChannelInterval = time.Second })
	ctx := testContext(t)
	sl.FailNext("chat.postMessage", 1, slackstandin.Failure{Status: 429, RetryAfter: 30})
	if _, err := c.PostMessage(ctx, slack.Message{Channel: channel, Text: "x"}); err == nil {
		t.Fatal("no error")
	}
	// The channel is held for Retry-After: a call whose deadline comes sooner is told so at
	// once, without reaching Slack.
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	before := len(sl.Requests())
	_, err := c.PostMessage(short, slack.Message{Channel: channel, Text: "y"})
	if d, ok := slack.RetryAfter(err); !ok || d < 20*time.Second || d > 30*time.Second {
		t.Errorf("second post = %v, want a rate limit of about 30s", err)
	}
	if after := len(sl.Requests()); after != before {
		t.Errorf("%d requests reached Slack during Retry-After", after-before)
	}
	// Another channel is not held.
	if _, err := c.PostMessage(ctx, slack.Message{Channel: "C0OTHER", Text: "z"}); err != nil {
		t.Errorf("other channel: %v", err)
	}
}

func TestRespond(t *testing.T) {
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	url := sl.ResponseOrigin() + "/actions/T0STANDIN/1/abc"
	if err := c.Respond(ctx, url, "You are not on call for this incident."); err != nil {
		t.Fatal(err)
	}
	r := sl.Responses()
	if len(r) != 1 || r[0].ResponseType != "ephemeral" || r[0].ReplaceOriginal || r[0].Text != "You are not on call for this incident." {
		t.Errorf("responses = %+v", r)
	}
}

// TestRespondRefusesOtherHosts: a payload naming any other URL makes Alaya call nothing.
func TestRespondRefusesOtherHosts(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer elsewhere.Close()
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, nil)
	def, _, _ := newClient(t, sl, func(cfg *slack.Config) { cfg.ResponseURLHosts = nil })
	for _, tc := range []struct {
		name string
		c    *slack.Client
		url  string
	}{
		{"another origin", c, elsewhere.URL + "/actions/x"},
		{"same host, https instead of http", c, strings.Replace(sl.ResponseOrigin(), "http:", "https:", 1) + "/x"},
		{"user info trick", c, "http://" + strings.TrimPrefix(sl.ResponseOrigin(), "http://") + "@" + strings.TrimPrefix(elsewhere.URL, "http://") + "/x"},
		{"default list: http to hooks.slack.com", def, "http://hooks.slack.com/actions/x"},
		{"default list: a lookalike host", def, "https://hooks.slack.com.evil.example/actions/x"},
		{"default list: the stand-in", def, sl.ResponseOrigin() + "/actions/x"},
		{"not a URL", c, "::"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Respond(testContext(t), tc.url, "x"); !errors.Is(err, slack.ErrResponseURLRefused) || slack.Temporary(err) {
				t.Errorf("Respond = %v, want ErrResponseURLRefused", err)
			}
		})
	}
	if hits.Load() != 0 || len(sl.Responses()) != 0 {
		t.Errorf("%d calls elsewhere, %d responses: a refused URL was called", hits.Load(), len(sl.Responses()))
	}
}

// TestRespondFollowsNoRedirect: an allowed host cannot send Respond elsewhere.
func TestRespondFollowsNoRedirect(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	sl := slackstandin.New(t)
	c, _, _ := newClient(t, sl, func(cfg *slack.Config) { cfg.ResponseURLHosts = []string{redirect.URL} })
	if err := c.Respond(testContext(t), redirect.URL+"/x", "x"); err == nil || slack.Temporary(err) {
		t.Errorf("Respond = %v, want a permanent error", err)
	}
	if hits.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

// TestTokenNeverLogged: the token appears in no log line, error or printed config.
func TestTokenNeverLogged(t *testing.T) {
	sl := slackstandin.New(t)
	c, logs, _ := newClient(t, sl, nil)
	ctx := testContext(t)
	sl.FailNext("*", 1, slackstandin.Failure{Error: "invalid_auth"})
	sl.FailNext("users.info", 1, slackstandin.Failure{})
	var errs []error
	_, err := c.PostMessage(ctx, slack.Message{Channel: channel, Text: "x"})
	errs = append(errs, err)
	_, err = c.UserEmail(ctx, "U1")
	errs = append(errs, err)
	// A lookup that cannot connect names neither the URL nor the email in its query.
	down, _, _ := newClient(t, sl, func(cfg *slack.Config) { cfg.APIURL = "http://127.0.0.1:1/api/" })
	if _, err := down.LookupUserByEmail(ctx, "dana.private@example.com"); err == nil || !slack.Temporary(err) ||
		strings.Contains(err.Error(), "dana.private") || strings.Contains(err.Error(), "/api/") {
		t.Errorf("failed lookup: %v, want a temporary error without the email or URL", err)
	} else {
		errs = append(errs, err)
	}
	cfg := slack.Config{Token: slack.Token(sl.Token())}
	printed := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Token)
	js, _ := json.Marshal(cfg)
	all := logs.String() + printed + string(js) + fmt.Sprint(errs)
	if strings.Contains(all, sl.Token()) || strings.Contains(all, "xoxb-") {
		t.Errorf("the token leaked:\n%s", all)
	}
	if !strings.Contains(printed, "[REDACTED]") {
		t.Errorf("printed config %s, want [REDACTED]", printed)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []slack.Config{
		{},
		{Token: "xoxb-1", APIURL: "slack.com/api"},
		{Token: "xoxb-1", APIURL: "ftp://slack.com/api/"},
		{Token: "xoxb-1", ResponseURLHosts: []string{"https://hooks.slack.com/path"}},
		{Token: "xoxb-1", ResponseURLHosts: []string{"gopher://hooks.slack.com"}},
	} {
		if _, err := slack.New(cfg, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
