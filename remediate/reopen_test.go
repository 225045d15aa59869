package remediate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/safety"
)

// approveAgain is a new note by the on-call approving code (another note than approve's, so
// another PagerDuty note id).
func approveAgain(id, code, eventID string) *incident.Event {
	return noteBy(id, "PONCALL", "/alaya approve "+code+" again", eventID)
}

// A cooldown that refuses an approved change before the run changed anything does not use up
// the approval: the gate is pending again with a fresh expiry, the note says why and when to
// approve again, the old approval replayed does nothing, and a new approval runs the change.
func TestCooldownRefusalReturnsTheGateToPending(t *testing.T) {
	b := newBedWith(t, coolingRunbook)
	withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PREOPEN1")
	handle(t, p, approve("PREOPEN1", code, "ap-reopen-1"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("first approved restart ran %d times", n)
	}
	b.pd.notes = nil
	code2, runID := b.park(t, p, "PREOPEN2")
	before := b.record(t, runID).Gate.Expires
	handle(t, p, approve("PREOPEN2", code2, "ap-reopen-2"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("restart ran within the cooldown (%d runs)", n)
	}
	req, _, err := b.approv.Get(t.Context(), "PREOPEN2", code2)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != approval.StatePending || !req.Expires.After(before) {
		t.Fatalf("after the cooldown refusal the gate is %s until %s (was until %s); want pending with a fresh expiry",
			req.State, req.Expires, before)
	}
	if rec := b.record(t, runID); rec.State != ledger.StateParked {
		t.Fatalf("run is %s after the refusal, want parked at its gate again", rec.State)
	}
	note := b.pd.find("pending again")
	if !strings.Contains(note, "next allowed after") || !strings.Contains(note, "/alaya approve "+code2) {
		t.Fatalf("no note says why the gate is pending again and how to approve it: %q", b.pd.notes)
	}

	// The approval that was not used, delivered again, changes nothing.
	handle(t, p, approve("PREOPEN2", code2, "ap-reopen-2"))
	if req, _, _ := b.approv.Get(t.Context(), "PREOPEN2", code2); req.State != approval.StatePending {
		t.Fatalf("the old approval replayed decided the reopened gate: %s", req.State)
	}

	// The cooldown ends; a new approval runs the change.
	if err := b.runs.Purge(t.Context(), "cooldown.gated.here"); err != nil {
		t.Fatal(err)
	}
	handle(t, b.newP("w2"), approveAgain("PREOPEN2", code2, "ap-reopen-3"))
	if n := b.runner.count("restart-it"); n != 2 {
		t.Fatalf("the new approval did not run the change (%d restarts in all); notes: %q", n, b.pd.notes)
	}
	if rec := b.record(t, runID); rec.State != ledger.StateDone {
		t.Fatalf("run is %s, want done", rec.State)
	}
}

// Once part of the approved plan ran, a refusal cannot give the approval back: the refused
// host's remaining steps are skipped, and the note says so.
func TestRefusalAfterAChangeSkipsTheRestOfTheHost(t *testing.T) {
	b := newBedWith(t, strings.Replace(twoHostRunbook, "steps:\n", "limits: {cooldown: 1h}\nsteps:\n", 1))
	g := withSafety(b, safety.Limits{})
	b.runner.hook = func(ctx context.Context, host, cmd string) (*executor.Result, error) {
		if cmd == "stop-it" {
			// Another run of the runbook changes the host meanwhile: its cooldown starts.
			if err := g.MarkRun(ctx, "gated", host, "another-run"); err != nil {
				return nil, err
			}
		}
		return &executor.Result{}, nil
	}
	p := b.newP("w1")
	code, runID := b.park(t, p, "PPART1")
	handle(t, p, approve("PPART1", code, "ap-part-1"))
	if n := b.runner.count("start-it"); n != 0 {
		t.Fatalf("start ran %d times within another run's cooldown", n)
	}
	if req, _, _ := b.approv.Get(t.Context(), "PPART1", code); req.State != approval.StateApproved {
		t.Errorf("gate is %s after part of the plan ran, want approved (spent)", req.State)
	}
	if rec := b.record(t, runID); rec.State == ledger.StateParked {
		t.Errorf("run parked again after part of its plan ran")
	}
	if note := b.pd.find("cooldown: gated changed here"); !strings.Contains(note, "already ran") {
		t.Errorf("the note does not say part of the plan already ran: %q", b.pd.notes)
	}
}

// The action cap refuses like a cooldown, without a known end: the gate is pending again and
// the note says to approve once the reason has passed.
func TestActionCapRefusalReturnsTheGateToPending(t *testing.T) {
	b := newBed(t)
	withSafety(b, safety.Limits{MaxActions: 1, ActionWindow: time.Hour})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PCAP1")
	handle(t, p, approve("PCAP1", code, "ap-cap-1"))
	b.pd.notes = nil
	code2, runID := b.park(t, p, "PCAP2")
	handle(t, p, approve("PCAP2", code2, "ap-cap-2"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("restart ran %d times under a cap of 1", n)
	}
	if req, _, _ := b.approv.Get(t.Context(), "PCAP2", code2); req.State != approval.StatePending {
		t.Fatalf("after the cap refused the change the gate is %s, want pending", req.State)
	}
	if rec := b.record(t, runID); rec.State != ledger.StateParked {
		t.Fatalf("run is %s, want parked", rec.State)
	}
	if note := b.pd.find("pending again"); !strings.Contains(note, "action cap") || !strings.Contains(note, "once the reason above has passed") {
		t.Fatalf("no note says the cap refused and to approve again later: %q", b.pd.notes)
	}
}
