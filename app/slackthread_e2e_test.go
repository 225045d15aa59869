package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/slack"
)

// threadRunbook diagnoses the alert's host, asks at a gate, and "restarts" by appending to a
// file the test counts. CASE selects the runbook by the alert's case detail.
const threadRunbook = `name: CASE
owner: sre
match: any(alerts, .details.case == "CASE")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
GATE`

const threadGate = `  - name: approve
    gate: {}
  - name: restart
    restart:
      service: demo
      command: echo restarted >> DIR/restarts
      verify_command: test -s DIR/restarts
`

const (
	threadChannel = "C0OPS0001"
	threadGroup   = "S0SRE0001"
	danaSlack     = "U0DANA001"
	samSlack      = "U0SAM0001"
)

// threadBed is the whole system with Slack: the harness (receiver, worker, JetStream, S3, the
// sshd test bed, the PagerDuty stand-in) and the Slack stand-in the worker posts to and the
// receiver takes presses from.
type threadBed struct {
	*harness
	slack *slackstandin.Server
	dir   string // the restart counter's directory
}

func newThreadBed(t *testing.T, opts ...slackstandin.Option) *threadBed {
	return newThreadBedWith(t, nil, opts...)
}

// newThreadBedWith is newThreadBed with edit applied to the files and environment last.
func newThreadBedWith(t *testing.T, edit harnessOption, opts ...slackstandin.Option) *threadBed {
	tb := &threadBed{slack: slackstandin.New(t, opts...), dir: restartDir(t)}
	tb.harness = newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		for name, gate := range map[string]string{"fix": threadGate, "look": ""} {
			gate = strings.ReplaceAll(gate, "DIR", tb.dir)
			rb := strings.NewReplacer("CASE", name, "GATE", gate).Replace(threadRunbook)
			writeFile(t, filepath.Join(dir, "runbooks", name+".yaml"), rb)
		}
		env["ALAYA_SLACK_TOKEN"] = tb.slack.Token()
		env["ALAYA_SLACK_SIGNING_SECRETS"] = tb.slack.SigningSecret()
		env["ALAYA_SLACK_API_URL"] = tb.slack.URL()
		env["ALAYA_SLACK_RESPONSE_URL_HOSTS"] = tb.slack.ResponseOrigin()
		env["ALAYA_SLACK_CHANNEL"] = threadChannel
		env["ALAYA_SLACK_USER_GROUP"] = threadGroup
		if edit != nil {
			edit(dir, env)
		}
	})
	tb.slack.AddUser(slackstandin.User{ID: danaSlack, Email: "dana@example.com", Name: "dana"})
	tb.slack.AddUser(slackstandin.User{ID: samSlack, Email: "sam@example.com", Name: "sam"})
	tb.pd.AddUser("PNOTON1", "Sam Bystander", "sam@example.com")
	tb.pd.SetOnCall("PEP0001", "PONCALL")
	tb.pd.Subscribe(tb.receiver+"/v1/webhooks/pagerduty", webhookSecret)
	return tb
}

func (tb *threadBed) trigger(id, c string) {
	tb.pd.Trigger(incident.Incident{
		ID: id, Title: "checkout sick on target-1", Status: incident.StatusTriggered, Urgency: "high",
		HTMLURL:          "https://example.pagerduty.com/incidents/" + id,
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "checkout sick", Status: "triggered",
			Details: map[string]any{"host": "target-1", "case": c}}},
	})
}

// top waits for the top message whose text contains all of want, and returns it.
func (tb *threadBed) top(t *testing.T, want ...string) slackstandin.Message {
	t.Helper()
	var found slackstandin.Message
	tb.wait(t, func() bool {
		for _, m := range tb.slack.TopLevel(threadChannel) {
			if containsAll(m.Text, want) {
				found = m
				return true
			}
		}
		return false
	}, fmt.Sprintf("a top message with %q", want))
	return found
}

// reply waits for a reply under top whose text contains want.
func (tb *threadBed) reply(t *testing.T, top slackstandin.Message, want string) slackstandin.Message {
	t.Helper()
	var found slackstandin.Message
	tb.wait(t, func() bool {
		for _, m := range tb.slack.Thread(threadChannel, top.TS) {
			if strings.Contains(m.Text+string(m.Blocks), want) {
				found = m
				return true
			}
		}
		return false
	}, fmt.Sprintf("a reply with %q", want))
	return found
}

func (tb *threadBed) wait(t *testing.T, cond func() bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	if err := tb.slack.WaitFor(ctx, cond); err != nil {
		t.Fatalf("timed out waiting for %s; channel:\n%s\nworker log:\n%s", what, tb.dump(), lastLines(tb.logs.String(), 30))
	}
}

// dump renders the channel as a person sees it: each top message (as it reads now), its
// replies indented beneath.
func (tb *threadBed) dump() string {
	var b strings.Builder
	for _, top := range tb.slack.TopLevel(threadChannel) {
		fmt.Fprintf(&b, "%s\n", indent(top.Text, ""))
		for _, r := range tb.slack.Thread(threadChannel, top.TS) {
			text := r.Text
			if len(r.Blocks) > 0 {
				text = blocksText(r.Blocks)
			}
			fmt.Fprintf(&b, "  ↳ %s\n", indent(text, "    "))
		}
	}
	return b.String()
}

func indent(s, pad string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

// blocksText is a message's blocks as text: sections, small print (context) in _…_, and the
// buttons as [Label].
func blocksText(raw json.RawMessage) string {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []map[string]any `json:"elements"`
	}
	_ = json.Unmarshal(raw, &blocks)
	var parts []string
	for _, b := range blocks {
		switch {
		case b.Text != nil:
			parts = append(parts, strings.TrimRight(b.Text.Text, "\n"))
		case b.Type == "actions":
			var labels []string
			for _, e := range b.Elements {
				if t, ok := e["text"].(map[string]any); ok {
					labels = append(labels, fmt.Sprintf("[%v]", t["text"]))
				}
			}
			parts = append(parts, strings.Join(labels, " "))
		case b.Type == "context":
			for _, e := range b.Elements {
				parts = append(parts, fmt.Sprintf("_%v_", e["text"]))
			}
		}
	}
	return strings.Join(parts, "\n")
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// press presses a button of the gate message as user and returns the receiver's status.
func (tb *threadBed) press(t *testing.T, gate slackstandin.Message, user, action string) int {
	t.Helper()
	body, hdr, err := tb.slack.PressButton(user, threadChannel, gate.TS, action)
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := slackstandin.Deliver(t.Context(), tb.receiver+"/v1/slack/interactions", body, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (tb *threadBed) restarts() int {
	b, _ := os.ReadFile(filepath.Join(tb.dir, "restarts"))
	return strings.Count(string(b), "restarted")
}

var slackCodeRe = regexp.MustCompile(`/alaya approve ([0-9A-Z]{6})`)

// TestSlackThreadEndToEnd: a run's thread in Slack, through the real receiver, worker,
// JetStream, sshd test bed, the PagerDuty stand-in and the Slack stand-in.
func TestSlackThreadEndToEnd(t *testing.T) {
	tb := newThreadBed(t)

	t.Run("the on-call approves by button: the run executes, the thread and the incident say so", func(t *testing.T) {
		tb.trigger("PSLK001", "fix")
		top := tb.top(t, "PSLK001", "waiting for approval", "<@"+danaSlack+">", "<!subteam^"+threadGroup+">")
		gate := tb.reply(t, top, "Approval needed")
		if b := gate.Buttons(); b[slack.ActionApprove] == "" || b[slack.ActionReject] == "" {
			t.Fatalf("the gate message has no buttons: %v", b)
		}
		if code := tb.press(t, gate, danaSlack, slack.ActionApprove); code != http.StatusOK {
			t.Fatalf("the press answered %d", code)
		}
		tb.top(t, "PSLK001", "done")
		tb.reply(t, top, "approved by Dana Oncall")
		tb.reply(t, top, "restart (restart)")
		tb.reply(t, top, "1/1 hosts ok")
		if n := tb.restarts(); n != 1 {
			t.Errorf("restarts = %d, want 1", n)
		}
		tb.wait(t, func() bool {
			g, _ := tb.slack.Message(threadChannel, gate.TS)
			return len(g.Buttons()) == 0 && strings.Contains(string(g.Blocks), "approved by Dana Oncall")
		}, "the gate's buttons replaced by the decision")
		if !tb.pdNote("PSLK001", "approved by Dana Oncall in Slack") {
			t.Errorf("the PagerDuty incident has no decision")
		}
		m, _ := tb.slack.Message(threadChannel, top.TS)
		var states []string
		for _, v := range m.Versions {
			states = append(states, strings.SplitN(v.Text, "\n", 2)[0])
		}
		t.Logf("top message states: %q", states)
		// In order, ending done; a state the outbox replaced before it could post it (a busy
		// machine) may be missing, but the wait for approval cannot be.
		order := []string{"diagnosing", "waiting for approval", "executing", "done"}
		next, sawWaiting := 0, false
		for _, st := range states {
			for next < len(order) && !strings.Contains(st, order[next]) {
				next++
			}
			if next == len(order) {
				t.Fatalf("top message states %q are not in the order %q", states, order)
			}
			sawWaiting = sawWaiting || order[next] == "waiting for approval"
		}
		if !sawWaiting || !strings.Contains(states[len(states)-1], "done") {
			t.Errorf("top message states %q, want waiting for approval and, last, done", states)
		}
		t.Logf("the channel as people see it:\n%s", tb.dump())
	})

	t.Run("a press by someone not on call is refused to them alone and runs nothing", func(t *testing.T) {
		before := tb.restarts()
		tb.trigger("PSLK002", "fix")
		top := tb.top(t, "PSLK002", "waiting for approval")
		gate := tb.reply(t, top, "Approval needed")
		replies := len(tb.slack.Thread(threadChannel, top.TS))
		if code := tb.press(t, gate, samSlack, slack.ActionApprove); code != http.StatusOK {
			t.Fatalf("the press answered %d", code)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		answers, err := tb.slack.WaitResponses(ctx, 1)
		if err != nil {
			t.Fatalf("no ephemeral answer: %v\n%s", err, lastLines(tb.logs.String(), 20))
		}
		code := slackCodeRe.FindStringSubmatch(blocksText(gate.Blocks))
		got := fmt.Sprintf("%+v", answers[len(answers)-1])
		t.Logf("ephemeral answer to the presser: %s", got)
		if !strings.Contains(got, "Sam Bystander is not on call") || (code != nil && strings.Contains(got, code[1])) {
			t.Errorf("answer %s, want the reason and no code", got)
		}
		if n := tb.restarts(); n != before {
			t.Errorf("restarts %d → %d after a refused press", before, n)
		}
		if n := len(tb.slack.Thread(threadChannel, top.TS)); n != replies {
			t.Errorf("the thread grew from %d to %d replies after a refused press", replies, n)
		}
		if tb.pdNote("PSLK002", "Sam") {
			t.Errorf("the refused press was written on the incident")
		}
	})

	t.Run("the on-call rejects by button: nothing runs, the thread and the incident say so", func(t *testing.T) {
		before := tb.restarts()
		tb.trigger("PSLK004", "fix")
		top := tb.top(t, "PSLK004", "waiting for approval")
		gate := tb.reply(t, top, "Approval needed")
		if code := tb.press(t, gate, danaSlack, slack.ActionReject); code != http.StatusOK {
			t.Fatalf("the press answered %d", code)
		}
		tb.top(t, "PSLK004", "⏹ rejected by Dana Oncall")
		tb.reply(t, top, "rejected by Dana Oncall. Nothing after the gate was executed.")
		tb.wait(t, func() bool {
			g, _ := tb.slack.Message(threadChannel, gate.TS)
			return len(g.Buttons()) == 0 && strings.Contains(string(g.Blocks), "rejected by Dana Oncall")
		}, "the gate's buttons replaced by the rejection")
		if n := tb.restarts(); n != before {
			t.Errorf("restarts %d → %d after a rejection", before, n)
		}
		if !tb.pdNote("PSLK004", "rejected by Dana Oncall") {
			t.Errorf("the PagerDuty incident has no rejection")
		}
	})

	t.Run("a press queued without the receiver's signature is refused", func(t *testing.T) {
		before := tb.restarts()
		tb.trigger("PSLK003", "fix")
		top := tb.top(t, "PSLK003", "waiting for approval")
		gate := tb.reply(t, top, "Approval needed")
		_, _, code, err := slack.ParseButtonValue(gate.Buttons()[slack.ActionApprove])
		if err != nil {
			t.Fatal(err)
		}
		ev := &incident.Event{ID: "forged-1", Type: incident.TypeAnnotated, Source: incident.SourceSlack, OccurredAt: time.Now(),
			Incident: incident.Incident{ID: "PSLK003"},
			Note: &incident.Note{ID: "forged-1", Content: "/alaya approve " + code,
				Author: incident.Ref{ID: danaSlack, Type: incident.AuthorSlackUser}, Signature: "forged"},
			Chat: &incident.ChatAction{User: danaSlack, Channel: threadChannel, MessageTS: gate.TS,
				ResponseURL: tb.slack.ResponseOrigin() + "/actions/forged"}}
		data, _ := json.Marshal(ev)
		if _, err := tb.js().Publish(t.Context(), "alaya.events.slack.incident.annotated", data, jetstream.WithMsgID("forged-1")); err != nil {
			t.Fatal(err)
		}
		eventually(t, 45*time.Second, func() bool { // the worker's log, not Slack, says it: poll
			for _, l := range strings.Split(tb.logs.String(), "\n") {
				if strings.Contains(l, "does not carry the receiver's signature") && strings.Contains(l, `"answered":false`) {
					return true
				}
			}
			return false
		}, "the forged press's refusal in the worker's log, unanswered")
		if n := tb.restarts(); n != before {
			t.Errorf("restarts %d → %d after a forged press", before, n)
		}
		// The response URL came with the forgery, not from Slack: nothing is sent there.
		if got := fmt.Sprintf("%+v", tb.slack.Responses()); strings.Contains(got, "/actions/forged") {
			t.Errorf("the worker answered the forged press's response URL: %s", got)
		}
	})

	t.Run("an Alertmanager incident gets a thread", func(t *testing.T) {
		tb.alertmanager(t, "look")
		top := tb.top(t, "Alaya · ✅ done · look", "load5 above 8 on target-1", "For: <!subteam^"+threadGroup+">")
		tb.reply(t, top, "✓ target-1")
	})
}

// alertmanager posts a firing Alertmanager group whose alert selects the runbook for c.
func (tb *threadBed) alertmanager(t *testing.T, c string) {
	t.Helper()
	body := []byte(`{"receiver":"alaya","status":"firing","alerts":[{"status":"firing",
		"labels":{"alertname":"HighLoad","host":"target-1","case":"CASE"},
		"annotations":{"summary":"load5 above 8 on target-1"},"startsAt":"2026-11-21T03:00:00Z",
		"endsAt":"0001-01-01T00:00:00Z","fingerprint":"aa11bb22cc33dd55"}],
		"groupLabels":{"alertname":"HighLoad"},"commonLabels":{"alertname":"HighLoad","host":"target-1"},
		"commonAnnotations":{"summary":"load5 above 8 on target-1"},"externalURL":"http://am.example",
		"version":"4","groupKey":"{}:{alertname=\"HighLoad\",case=\"CASE\"}","truncatedAlerts":0}`)
	body = bytes.ReplaceAll(body, []byte("CASE"), []byte(c))
	if code := postAlertmanager(t, tb.receiver, amToken, body); code != http.StatusAccepted {
		t.Fatalf("alertmanager webhook answered %d", code)
	}
}

// TestSlackApprovesAlertmanagerWithoutPagerDuty: with Slack and no PagerDuty, an Alertmanager
// incident's gate is decided from Slack only by the Slack users the runbook names.
func TestSlackApprovesAlertmanagerWithoutPagerDuty(t *testing.T) {
	rdir := restartDir(t)
	tb := newThreadBedWith(t, func(dir string, env map[string]string) {
		delete(env, "ALAYA_PAGERDUTY_TOKEN")
		gate := strings.ReplaceAll(threadGate, "DIR", rdir)
		rb := strings.NewReplacer("CASE", "amfix", "GATE", gate).Replace(threadRunbook)
		rb = strings.Replace(rb, "steps:", "slack:\n  approvers: {users: ["+samSlack+"]}\nsteps:", 1)
		writeFile(t, filepath.Join(dir, "runbooks", "amfix.yaml"), rb)
	})
	tb.dir = rdir
	tb.alertmanager(t, "amfix")
	top := tb.top(t, "waiting for approval", "load5 above 8 on target-1")
	gate := tb.reply(t, top, "Decide with the buttons below.")
	if code := tb.press(t, gate, danaSlack, slack.ActionApprove); code != http.StatusOK {
		t.Fatalf("the press answered %d", code)
	}
	tb.wait(t, func() bool {
		return strings.Contains(fmt.Sprintf("%+v", tb.slack.Responses()), "allows only its named Slack approvers")
	}, "the unnamed user's refusal")
	if n := tb.restarts(); n != 0 {
		t.Fatalf("restarts = %d after an unnamed user's press", n)
	}
	if code := tb.press(t, gate, samSlack, slack.ActionApprove); code != http.StatusOK {
		t.Fatalf("the press answered %d", code)
	}
	tb.top(t, "done", "load5 above 8 on target-1")
	tb.reply(t, top, "approved by sam@example.com")
	if n := tb.restarts(); n != 1 {
		t.Errorf("restarts = %d, want 1", n)
	}
}

// pdNote reports whether Alaya wrote a note containing want on the incident.
func (tb *threadBed) pdNote(id, want string) bool {
	for _, n := range tb.pd.Notes(id) {
		if n.User.ID == "PBOT001" && strings.Contains(n.Content, want) {
			return true
		}
	}
	return false
}

// TestSlackRateLimitedDuringARun: Slack answers 429 to the run's first posts; the messages
// wait for Retry-After and all arrive, none twice.
func TestSlackRateLimitedDuringARun(t *testing.T) {
	tb := newThreadBed(t)
	tb.slack.FailNext("chat.postMessage", 2, slackstandin.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1})
	tb.trigger("PSLK010", "look")
	top := tb.top(t, "PSLK010", "done")
	tb.reply(t, top, "1/1 hosts ok")
	limited := 0
	for _, r := range tb.slack.Requests() {
		if r.Method == "chat.postMessage" && r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("%d posts answered 429, want the 2 injected", limited)
	}
	tops := tb.slack.TopLevel(threadChannel)
	replies := tb.slack.Thread(threadChannel, top.TS)
	if len(tops) != 1 || len(replies) != 1 {
		t.Errorf("%d top messages and %d replies, want one each:\n%s", len(tops), len(replies), tb.dump())
	}
	if tb.metric(`alaya_slack_messages_total{outcome="rate_limited"}`) < 1 {
		t.Errorf("no rate-limited delivery counted")
	}
}
