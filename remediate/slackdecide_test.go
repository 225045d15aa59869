package remediate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/remediate"
)

var linkKey = []byte("link-key-for-remediate-tests-0123")

// slackPeople is Slack's user directory (id → email) and PagerDuty's (email → user).
type slackPeople struct{}

var slackEmails = map[string]string{"U0DANA001": "dana@example.com", "U0EVE0001": "eve@example.com", "U0GHOST01": "ghost@example.com"}

var pdUsers = map[string]approval.User{
	"dana@example.com": {ID: "PONCALL", Name: "Dana Oncall", Email: "dana@example.com"},
	"eve@example.com":  {ID: "PEVE", Name: "Eve Bystander", Email: "eve@example.com"},
}

func (slackPeople) UserEmail(_ context.Context, id string) (string, error) {
	if e, ok := slackEmails[id]; ok {
		return e, nil
	}
	return "", outbox.Permanent(errors.New("slack: users.info: user_not_found"))
}

func (slackPeople) User(_ context.Context, id string) (approval.User, error) {
	for _, u := range pdUsers {
		if u.ID == id {
			return u, nil
		}
	}
	return approval.User{}, approval.ErrUnknown
}

func (slackPeople) UserByEmail(_ context.Context, email string) (approval.User, error) {
	if u, ok := pdUsers[email]; ok {
		return u, nil
	}
	return approval.User{}, approval.ErrUnknown
}

func (slackPeople) TeamsNamed(context.Context, string) ([]string, error) { return nil, nil }

// press is a button press as the receiver queues it, signed with key.
func press(incidentID, slackUser, verb, code, eventID string, key []byte) *incident.Event {
	ev := &incident.Event{ID: eventID, Type: incident.TypeAnnotated, Source: incident.SourceSlack, OccurredAt: time.Unix(1764500001, 0),
		Incident: incident.Incident{ID: incidentID},
		Note: &incident.Note{ID: eventID, Content: "/alaya " + verb + " " + code,
			Author: incident.Ref{ID: slackUser, Type: incident.AuthorSlackUser}},
		Chat: &incident.ChatAction{Team: "T0TEAM", User: slackUser, Channel: "C0OPS", MessageTS: "2.1", ThreadTS: "1.1",
			ResponseURL: "https://hooks.slack.com/actions/T0TEAM/" + eventID},
	}
	ev.Note.Signature = approval.SignNote(key, ev)
	return ev
}

func slackBed(t *testing.T, runbook string, inPD bool) *bed {
	b := newBedWith(t, runbook)
	b.slack, b.dir, b.pageKey = &fakeSlack{}, slackPeople{}, linkKey
	b.chat = &remediate.Chat{Channel: func(*incident.Incident) string { return "#ops" }, Users: slackPeople{},
		InPagerDuty: func(string) bool { return inPD }}
	return b
}

// responses are the ephemeral answers given through response URLs.
func (f *fakeSlack) responses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.answers...)
}

// A press by the on-call is a decision like their note: the run executes, the ledger says it
// came from Slack, and the incident has the decision.
func TestSlackPressByOnCallApproves(t *testing.T) {
	b := slackBed(t, gatedRunbook, true)
	p := b.newP("w1")
	code, runID := b.park(t, p, "PI1")
	handle(t, p, press("PI1", "U0DANA001", "approve", code, "slack-1", linkKey))
	rec := b.record(t, runID)
	if rec.State != ledger.StateDone || b.runner.count("restart-it") != 1 {
		t.Fatalf("after the press: state %s, restarts %d", rec.State, b.runner.count("restart-it"))
	}
	if len(rec.Approvals) != 1 || rec.Approvals[0].Via != "slack" || !strings.Contains(rec.Approvals[0].By, "Dana Oncall") {
		t.Errorf("approvals %+v", rec.Approvals)
	}
	if b.pd.find("approved by Dana Oncall in Slack (code "+code) == "" {
		t.Errorf("the incident has no decision: %q", b.pd.notes)
	}
	if r := b.slack.responses(); len(r) != 0 {
		t.Errorf("ephemeral answers to an accepted press: %q", r)
	}
}

// Presses that may not decide are answered to the presser alone, and nothing runs: someone
// not on call, someone Slack cannot map to a PagerDuty user. A press without the receiver's
// signature is answered to nobody: its response URL came with the forgery.
func TestSlackPressRefusedEphemerally(t *testing.T) {
	for name, tc := range map[string]struct {
		user string
		key  []byte
		want string
	}{
		"not on call":      {"U0EVE0001", linkKey, "Eve Bystander is not on call"},
		"no pd user":       {"U0GHOST01", linkKey, "no PagerDuty user has the email"},
		"forged":           {"U0DANA001", []byte("not-the-receivers-key-0123456789"), ""},
		"unknown in slack": {"U0NOBODY1", linkKey, "no email Alaya can match"},
	} {
		t.Run(name, func(t *testing.T) {
			b := slackBed(t, gatedRunbook, true)
			p := b.newP("w1")
			code, runID := b.park(t, p, "PI"+name)
			notes := len(b.pd.notes)
			handle(t, p, press("PI"+name, tc.user, "approve", code, "slack-"+name, tc.key))
			if rec := b.record(t, runID); rec.State != ledger.StateParked || b.runner.count("restart-it") != 0 {
				t.Fatalf("after a refused press: state %s, restarts %d", rec.State, b.runner.count("restart-it"))
			}
			r := b.slack.responses()
			switch {
			case tc.want == "" && len(r) != 0:
				t.Errorf("ephemeral answers %q to a press the receiver did not sign, want none", r)
			case tc.want != "" && (len(r) != 1 || !strings.Contains(r[0], tc.want) || strings.Contains(r[0], code)):
				t.Errorf("ephemeral answers %q, want one saying %q without the code", r, tc.want)
			}
			if len(b.pd.notes) != notes {
				t.Errorf("a refused press wrote on the incident: %q", b.pd.notes[notes:])
			}
		})
	}
}

// withSlackApprovers is gatedRunbook naming its Slack approvers (a YAML flow mapping).
func withSlackApprovers(approvers string) string {
	return strings.Replace(gatedRunbook, "steps:\n", "slack:\n  approvers: "+approvers+"\nsteps:\n", 1)
}

// An incident PagerDuty does not have is decided from Slack only by the runbook's named Slack
// users; a runbook that names none cannot be decided from Slack (fail closed).
func TestSlackPressOnIncidentNotInPagerDuty(t *testing.T) {
	for _, tc := range []struct {
		name, approvers, incident string
		members                   groupsOf
		outsider, approver        string
	}{
		{"named user approves", "{users: [U0EVE0001]}", "am-1", nil, "U0DANA001", "U0EVE0001"},
		{"member of a named group approves", "{groups: [S0OPS0001]}", "am-3", groupsOf{"S0OPS0001": {"U0DANA001"}}, "U0EVE0001", "U0DANA001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := slackBed(t, withSlackApprovers(tc.approvers), false)
			if tc.members != nil {
				b.chat.Members = tc.members
			}
			p := b.newP("w1")
			code, runID := b.park(t, p, tc.incident)
			handle(t, p, press(tc.incident, tc.outsider, "approve", code, tc.incident+"-outsider", linkKey))
			if rec := b.record(t, runID); rec.State != ledger.StateParked {
				t.Fatalf("%s, not named, decided: %s", tc.outsider, rec.State)
			}
			handle(t, p, press(tc.incident, tc.approver, "approve", code, tc.incident+"-approver", linkKey))
			if rec := b.record(t, runID); rec.State != ledger.StateDone || b.runner.count("restart-it") != 1 {
				t.Fatalf("%s's press: state %s, restart ran %d times", tc.approver, rec.State, b.runner.count("restart-it"))
			}
		})
	}
	t.Run("none named", func(t *testing.T) {
		b := slackBed(t, gatedRunbook, false)
		p := b.newP("w1")
		code, runID := b.park(t, p, "am-2")
		handle(t, p, press("am-2", "U0DANA001", "approve", code, "slack-c", linkKey))
		if rec := b.record(t, runID); rec.State != ledger.StateParked {
			t.Fatalf("decided without named approvers: %s", rec.State)
		}
		if r := b.slack.responses(); len(r) != 1 || !strings.Contains(r[0], "names no Slack approvers") {
			t.Errorf("answers %q", r)
		}
	})
}

// groupsOf is Slack's user groups: id → members.
type groupsOf map[string][]string

func (g groupsOf) GroupMembers(_ context.Context, id string) ([]string, error) { return g[id], nil }
