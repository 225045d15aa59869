package remediate_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
)

// clock is a hand-moved time source for the approvals store: the deadlines are compared with
// it, as they are with the NATS server's clock in production.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// decideOnly records the on-call's approval in the store, as a worker that stopped right
// after deciding would have left it: approved, the run still parked.
func (b *bed) decideOnly(t *testing.T, id, code, runID string) {
	t.Helper()
	if _, err := b.approv.Decide(t.Context(), id, code, approval.Decision{State: approval.StateApproved, By: "PONCALL",
		PlanHash: b.record(t, runID).Gate.PlanHash}); err != nil {
		t.Fatal(err)
	}
}

// An approved gate whose run has not started within the start deadline lapses: the sweep
// closes the run and says so, and the approval delivered again runs nothing.
func TestApprovedGateLapsesAfterItsStartDeadline(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)}
	b := newBedClock(t, gatedRunbook, clk.Now)
	p := b.newP("w1")
	code, runID := b.park(t, p, "PLAPSE")
	b.decideOnly(t, "PLAPSE", code, runID)
	clk.Advance(approval.DefaultStartDeadline + time.Second)
	if err := p.ExpireGates(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b.pd.find("but not started by") == "" {
		t.Errorf("the lapse is not reported: %q", b.pd.notes)
	}
	handle(t, b.newP("w2"), approve("PLAPSE", code, "late-delivery"))
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times after the approval lapsed", n)
	}
	if rec := b.record(t, runID); rec.State != ledger.StateRejected {
		t.Fatalf("run state %s, want rejected", rec.State)
	}
}

// The deadline is checked when the approval comes again, too, not only by the sweep.
func TestLateApprovalRedeliveryDoesNotStart(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)}
	b := newBedClock(t, gatedRunbook, clk.Now)
	code, runID := b.park(t, b.newP("w1"), "PLATE")
	b.decideOnly(t, "PLATE", code, runID)
	clk.Advance(approval.DefaultStartDeadline)
	handle(t, b.newP("w2"), approve("PLATE", code, "late"))
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times after its start deadline", n)
	}
}

// Resolving the incident cancels a gate that was approved but whose run has not started.
func TestResolveCancelsApprovedButUnstartedRun(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, runID := b.park(t, p, "PRESOLVE")
	b.decideOnly(t, "PRESOLVE", code, runID)
	b.pd.resolve("PRESOLVE")
	handle(t, p, resolved("PRESOLVE"))
	if b.pd.find("cancelled: the incident was resolved") == "" {
		t.Errorf("the cancellation is not reported: %q", b.pd.notes)
	}
	handle(t, b.newP("w2"), approve("PRESOLVE", code, "after-resolve"))
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times on a resolved incident", n)
	}
}

// A second approval while the approved run executes is answered and changes nothing.
func TestSecondApprovalWhileExecuting(t *testing.T) {
	b := newBed(t)
	code, runID := b.park(t, b.newP("w1"), "PBUSY")
	b.decideOnly(t, "PBUSY", code, runID)
	rec := b.record(t, runID)
	rec.State, rec.Owner, rec.Heartbeat = ledger.StateRunning, "alive-elsewhere", time.Now()
	data, _ := json.Marshal(rec)
	if _, err := b.runs.Put(t.Context(), "run."+runID, data); err != nil {
		t.Fatal(err)
	}
	before := b.record(t, runID)
	handle(t, b.newP("w2"), approve("PBUSY", code, "second"))
	if b.pd.find("already approved by PONCALL, executing") == "" {
		t.Errorf("no answer to the second approval: %q", b.pd.notes)
	}
	after := b.record(t, runID)
	if after.State != before.State || after.Owner != before.Owner || len(after.Steps) != len(before.Steps) {
		t.Fatalf("the second approval changed the run: %+v → %+v", before, after)
	}
}

func resolved(id string) *incident.Event {
	return &incident.Event{ID: "res-" + id, Type: incident.TypeResolved, Source: incident.SourcePagerDuty,
		Incident: incident.Incident{ID: id, Status: incident.StatusResolved}}
}

// An alert too large to keep with a parked run (here 200 KiB of '<', which JSON stores as
// six bytes each) ends the run at its gate with a note that says so, instead of failing to
// park on every delivery.
func TestEventTooLargeToParkEndsWithANote(t *testing.T) {
	b := newBed(t)
	ev := triggered("PHUGE")
	ev.Incident.Alerts = []incident.Alert{{ID: "A1", Details: map[string]any{"host": "here", "blob": strings.Repeat("<", 200<<10)}}}
	if err := b.newP("w1").Handle(t.Context(), ev); err != nil {
		t.Fatalf("the event is retried: %v", err)
	}
	if b.pd.find("more than the 256 KiB a gate can keep") == "" {
		t.Fatalf("no note says why the run stopped: %d notes", len(b.pd.notes))
	}
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times", n)
	}
}

// A note Alaya posted is never taken as a command, even while Alaya's own PagerDuty user
// cannot be looked up: its id was recorded when it was posted. Answering it would write
// another note, which would come back as another webhook.
func TestOwnNoteIsSilentByItsRecordedID(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, _ := b.park(t, p, "POWN")
	ev := noteBy("POWN", "PUNKNOWN", "/alaya approve "+code, "own-1") // the self id lookup failed
	p.Gates.Own = func(_ context.Context, id string) bool { return id == ev.Note.ID }
	before := len(b.pd.notes)
	handle(t, p, ev)
	if len(b.pd.notes) != before || b.runner.count("restart-it") != 0 {
		t.Fatalf("alaya's own note was answered or acted on: %q", b.pd.notes[before:])
	}
	p.Gates.Own = nil
	handle(t, p, noteBy("POWN", "PUNKNOWN", "/alaya approve "+code, "own-2"))
	if b.pd.find("PUNKNOWN is not on call") == "" {
		t.Fatalf("without the record the same note is refused, so the record is what silenced it: %q", b.pd.notes)
	}
}

// A decision from the approval page reaches the worker through the queue, which is not the
// authority: without the receiver's signature it is refused, with it the run resumes.
func TestPageDecisionNeedsTheReceiversSignature(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, _ := b.park(t, p, "PPAGESIG")
	key := []byte("link-key-for-tests-0123456789abcdef")
	p.Gates.PageKey = key
	decision := func(id string) *incident.Event {
		author := incident.Ref{ID: "PONCALL", Type: incident.AuthorUser, Summary: "Dana"}
		return &incident.Event{ID: id, Type: incident.TypeAnnotated, Source: incident.SourceApprovalPage, Agent: author,
			OccurredAt: time.Now().Truncate(time.Second), Incident: incident.Incident{ID: "PPAGESIG"},
			Note: &incident.Note{ID: id, Content: "/alaya approve " + code, Author: author}}
	}
	forged := decision("page-forged")
	forged.Note.Signature = approval.SignNote([]byte("not the key"), forged)
	handle(t, p, forged)
	if b.pd.find("does not carry the approval page's signature") == "" || b.runner.count("restart-it") != 0 {
		t.Fatalf("a decision published without the page's key was taken: %q", b.pd.notes)
	}
	signed := decision("page-signed")
	signed.Note.Signature = approval.SignNote(key, signed)
	handle(t, p, signed)
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("the signed page decision ran the restart %d times, want 1", n)
	}
}

// The approver's name is PagerDuty's, set by whoever owns that account: in Alaya's answer it
// stays on its line, so it cannot add a command of its own to the note.
func TestApproverNameCannotAddALine(t *testing.T) {
	b := newBed(t)
	code, runID := b.park(t, b.newP("w1"), "PNAME")
	if _, err := b.approv.Decide(t.Context(), "PNAME", code, approval.Decision{State: approval.StateApproved,
		By: "PONCALL", ByName: "Dana\n/alaya approve ZZZZZZ", PlanHash: b.record(t, runID).Gate.PlanHash}); err != nil {
		t.Fatal(err)
	}
	rec := b.record(t, runID)
	rec.State, rec.Owner, rec.Heartbeat = ledger.StateRunning, "alive-elsewhere", time.Now()
	data, _ := json.Marshal(rec)
	if _, err := b.runs.Put(t.Context(), "run."+runID, data); err != nil {
		t.Fatal(err)
	}
	handle(t, b.newP("w2"), approve("PNAME", code, "second"))
	note := b.pd.find("already approved by")
	if note == "" {
		t.Fatalf("no answer to the second approval: %q", b.pd.notes)
	}
	for _, line := range strings.Split(note, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "/alaya") {
			t.Errorf("the approver's name began a line of Alaya's note:\n%s", note)
		}
	}
}

// PagerDuty trims long notes in webhooks (trimmed: true): the command may be only in the
// note the API returns. The approval is taken from there, and the run starts.
func TestTrimmedNoteIsReadInFullFromPagerDuty(t *testing.T) {
	b := newBed(t)
	code, runID := b.park(t, b.newP("w1"), "PTRIM")
	ev := noteBy("PTRIM", "PONCALL", "Heap is at 97%, the dump is in the evidence.\n/alaya approve "+code, "trim-1")
	trimmed := *ev.Note
	trimmed.Content, trimmed.Trimmed = "Heap is at 97%, the dump is in", true
	ev.Note = &trimmed
	handle(t, b.newP("w2"), ev)
	if b.pd.find("approved by PONCALL") == "" {
		t.Fatalf("the trimmed note's approval was not taken: %q", b.pd.notes)
	}
	if st := b.record(t, runID).State; st == ledger.StateParked {
		t.Errorf("run still parked after the approval in the full note")
	}
}
