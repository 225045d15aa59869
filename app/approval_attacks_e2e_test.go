package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/pagerduty"
)

// attackRunbooks: "one" has one gate, "two" has two gates, "team" lets only a named team
// approve. Every action appends a line to the marks file on the target, so what ran is
// counted on the host itself, not from Alaya's records.
const attackRunbooks = `name: atk-CASE
owner: sre
match: any(alerts, .details.case == "CASE")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: first
    gate: {APPROVERS}
  - name: mark1
    restart:
      service: demo
      command: echo CASE-one-{{ incident.id }} >> DIR/marks
      verify_command: test -s DIR/marks
`

const secondGate = `  - name: second
    gate: {}
  - name: mark2
    restart:
      service: demo
      command: echo CASE-two-{{ incident.id }} >> DIR/marks
      verify_command: test -s DIR/marks
`

// attackBed is the whole system with the people an attack needs: Dana on call at level 1 of
// PEP0001, Sam who is on call nowhere Alaya should listen to, Lee at level 2, Mia in the
// real approver team, Mallory in a team whose name only looks like it.
type attackBed struct {
	*harness
	dir string
}

func newAttackBed(t *testing.T, opts ...harnessOption) *attackBed {
	ab := &attackBed{dir: restartDir(t)}
	all := append([]harnessOption{func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		env["ALAYA_WORKER_GATE_SWEEP"] = "100ms"
		env["ALAYA_RECEIVER_PUBLIC_URL"] = "https://alaya.example.test"
		for _, c := range []struct{ name, approvers, extra string }{{"one", "", ""}, {"two", "", secondGate}} {
			writeFile(t, filepath.Join(dir, "runbooks", c.name+".yaml"), ab.runbook(c.name, c.approvers, c.extra))
		}
	}}, opts...)
	ab.harness = newHarness(t, all...)
	pd := ab.pd
	pd.AddUser("PNOTON1", "Sam Bystander", "sam@example.com")
	pd.AddUser("PLEVEL2", "Lee Backup", "lee@example.com")
	pd.AddUser("PMEMBER", "Mia Member", "mia@example.com")
	pd.AddUser("PMALLRY", "Mallory", "mallory@example.com")
	pd.SetOnCall("PEP0001", "PONCALL")
	pd.SetOnCallLevel("PEP0001", 2, "PLEVEL2")
	pd.SetOnCall("PEPEVIL", "PNOTON1")
	pd.SetTeams("PMEMBER", incident.Ref{ID: "PTEAM01", Summary: "checkout-oncall"})
	pd.SetTeams("PMALLRY", incident.Ref{ID: "PTEAM99", Summary: "Checkout-Oncall"})
	// The team runbook names its approvers by team name: the worker resolves it at load, so
	// it is deployed once PagerDuty has the team.
	writeFile(t, filepath.Join(ab.harness.dir, "runbooks", "team.yaml"), ab.runbook("team", "approvers: {teams: [checkout-oncall]}", ""))
	ab.restartWorker()
	pd.Subscribe(ab.receiver+"/v1/webhooks/pagerduty", webhookSecret)
	return ab
}

func (ab *attackBed) runbook(name, approvers, extra string) string {
	return strings.NewReplacer("{APPROVERS}", "{"+approvers+"}", "CASE", name, "DIR", ab.dir).Replace(attackRunbooks + extra)
}

func (ab *attackBed) trigger(id, c string) {
	ab.pd.Trigger(incident.Incident{
		ID: id, Title: "checkout sick on target-1", Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "checkout sick", Status: "triggered",
			Details: map[string]any{"host": "target-1", "case": c}}},
	})
}

// gate waits for the plan note of the named gate and returns its code.
func (ab *attackBed) gate(t *testing.T, id, gate string) string {
	t.Helper()
	note := ab.waitBotNote(t, id, "Approval needed (gate "+gate+")", "")
	m := codeRe.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("no code in the plan note:\n%s", note)
	}
	return m[1]
}

// waitBotNote waits for Alaya's note on id containing want. When forbidden is not empty and
// the marks file shows it first, the action ran: the test fails at once.
func (ab *attackBed) waitBotNote(t *testing.T, id, want, forbidden string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range ab.pd.Notes(id) {
			if strings.Contains(n.Content, want) && n.User.ID == "PBOT001" {
				return n.Content
			}
		}
		if forbidden != "" && strings.Contains(ab.marks(), forbidden) {
			t.Fatalf("%s ran on the target; notes:\n%s", forbidden, ab.noteDump(id))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for a note on %s containing %q; notes:\n%s\nlog:\n%s", id, want, ab.noteDump(id), lastLines(ab.logs.String(), 30))
	return ""
}

func (ab *attackBed) noteDump(id string) string {
	var b strings.Builder
	for _, n := range ab.pd.Notes(id) {
		b.WriteString("[" + n.User.ID + "] " + n.Content + "\n")
	}
	return b.String()
}

func (ab *attackBed) marks() string {
	b, _ := os.ReadFile(filepath.Join(ab.dir, "marks"))
	return string(b)
}

func (ab *attackBed) noteAs(t *testing.T, id, user, content string) {
	t.Helper()
	if _, err := ab.pd.AddNoteAs(id, user, content); err != nil {
		t.Fatal(err)
	}
}

// refused asserts that an attack on id ends with a refusal note containing want, and that
// forbidden never appears in the marks file.
func (ab *attackBed) refused(t *testing.T, id, want, forbidden string) {
	t.Helper()
	note := ab.waitBotNote(t, id, "not accepted", forbidden)
	if !strings.Contains(note, want) {
		t.Errorf("refusal lacks %q:\n%s", want, note)
	}
	if strings.Contains(ab.marks(), forbidden) {
		t.Errorf("%s ran on the target", forbidden)
	}
}

// replayNote publishes the webhook of the note containing content on id again, under a new
// message id, as a PagerDuty retry after the duplicate window would arrive.
func (ab *attackBed) replayNote(ctx context.Context, t *testing.T, id, content string) {
	t.Helper()
	for _, d := range ab.pd.Deliveries() {
		ev, err := pagerduty.DecodeWebhook(d.Body)
		if err != nil || ev.Note == nil || ev.Incident.ID != id || ev.Note.Content != content {
			continue
		}
		data, _ := json.Marshal(ev)
		ack, err := ab.js().Publish(ctx, "alaya.events.pagerduty.incident.annotated", data, jetstream.WithMsgID("replay-"+ev.ID))
		if err != nil || ack.Duplicate {
			t.Fatalf("replay: %+v %v", ack, err)
		}
		return
	}
	t.Fatalf("no delivery of %q on %s", content, id)
}

// TestApprovalAttacks is issue 7's list of attacks on the note path, each through the real
// receiver, worker, NATS and the PagerDuty stand-in, each ending refused with nothing run.
func TestApprovalAttacks(t *testing.T) {
	ab := newAttackBed(t)
	ctx := t.Context()

	t.Run("the on-call user approves through a note PagerDuty has", func(t *testing.T) {
		ab.trigger("PATK001", "one")
		code := ab.gate(t, "PATK001", "first")
		ab.noteAs(t, "PATK001", "PONCALL", "/alaya approve "+code)
		ab.waitBotNote(t, "PATK001", "approved by Dana Oncall", "")
		eventually(t, 30*time.Second, func() bool { return strings.Contains(ab.marks(), "one-one-PATK001") }, "the approved action")
	})

	attacks := []struct {
		name, id, runbook string
		act               func(t *testing.T, id, code string)
		want              string
	}{
		{"a signed webhook for a note PagerDuty does not have", "PATK002", "one", func(t *testing.T, id, code string) {
			if _, err := ab.pd.ForgeNoteWebhook(id, "PONCALL", "/alaya approve "+code); err != nil {
				t.Fatal(err)
			}
		}, "PagerDuty has no such note"},
		{"an assignee who is not on call", "PATK003", "one", func(t *testing.T, id, code string) {
			ab.pd.SetAssignees(id, incident.Ref{ID: "PNOTON1", Summary: "Sam Bystander"})
			ab.noteAs(t, id, "PNOTON1", "/alaya approve "+code)
		}, "not on call"},
		{"an incident moved to another escalation policy", "PATK004", "one", func(t *testing.T, id, code string) {
			ab.pd.SetEscalationPolicy(id, incident.Ref{ID: "PEPEVIL", Summary: "Sam's own"})
			ab.noteAs(t, id, "PNOTON1", "/alaya approve "+code)
		}, "escalation policy"},
		{"an on-call user at escalation level 2", "PATK005", "one", func(t *testing.T, id, code string) {
			ab.noteAs(t, id, "PLEVEL2", "/alaya approve "+code)
		}, "not on call"},
		{"a member of a team whose name only looks like the approver team", "PATK006", "team", func(t *testing.T, id, code string) {
			ab.noteAs(t, id, "PMALLRY", "/alaya approve "+code)
		}, "this runbook allows only"},
		{"a note PagerDuty attributes to a service", "PATK007", "one", func(t *testing.T, id, code string) {
			if _, err := ab.pd.AddNoteBy(id, incident.Ref{ID: "PONCALL", Type: "service_reference", Summary: "checkout"}, "/alaya approve "+code); err != nil {
				t.Fatal(err)
			}
		}, "not a person"},
	}
	for _, tc := range attacks {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			ab.trigger(tc.id, tc.runbook)
			code := ab.gate(t, tc.id, "first")
			tc.act(t, tc.id, code)
			ab.refused(t, tc.id, tc.want, tc.runbook+"-one-"+tc.id)
		})
	}

	t.Run("the named team's member approves", func(t *testing.T) {
		ab.trigger("PATK008", "team")
		code := ab.gate(t, "PATK008", "first")
		ab.noteAs(t, "PATK008", "PMEMBER", "/alaya approve "+code)
		eventually(t, 30*time.Second, func() bool { return strings.Contains(ab.marks(), "team-one-PATK008") }, "the approved action")
	})

	for _, c := range []struct {
		name, id string
		again    func(t *testing.T, id, code string)
		want     string
	}{
		{"redelivered", "PATK009", func(t *testing.T, id, code string) { ab.replayNote(ctx, t, id, "/alaya approve "+code) }, "waits at gate second"},
		{"re-posted by someone not on call", "PATK010", func(t *testing.T, id, code string) {
			ab.noteAs(t, id, "PNOTON1", "/alaya approve "+code)
		}, "Sam Bystander is not on call"},
	} {
		t.Run("a gate-1 code at gate 2, "+c.name, func(t *testing.T) {
			ab.trigger(c.id, "two")
			code1 := ab.gate(t, c.id, "first")
			ab.noteAs(t, c.id, "PONCALL", "/alaya approve "+code1)
			code2 := ab.gate(t, c.id, "second")
			if !strings.Contains(ab.marks(), "two-one-"+c.id) || code2 == code1 {
				t.Fatalf("gate 1 passed without its step, or gate 2 reuses its code; marks %q", ab.marks())
			}
			c.again(t, c.id, code1)
			ab.refused(t, c.id, c.want, "two-two-"+c.id)
			ab.noteAs(t, c.id, "PONCALL", "/alaya approve "+code2)
			eventually(t, 30*time.Second, func() bool { return strings.Contains(ab.marks(), "two-two-"+c.id) }, "the second approved action")
		})
	}
}
