package remediate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/remediate"
)

// twoHostRunbook stops and starts a service on two hosts after a gate: "start" depends on
// "stop" on the same host.
const twoHostRunbook = `name: gated
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate: {}
  - name: stop
    restart: {service: demo, command: stop-it, verify_command: check-it}
  - name: start
    restart: {service: demo, command: start-it, verify_command: check-it}
`

const twoHosts = "hosts:\n  - name: a\n    transport: local\n  - name: b\n    transport: local\n"

func triggeredOn(id string, hosts ...string) *incident.Event {
	ev := triggered(id)
	for i, h := range hosts {
		ev.Incident.Alerts = append(ev.Incident.Alerts, incident.Alert{ID: fmt.Sprint("A", i), Details: map[string]any{"host": h}})
	}
	return ev
}

// calls records which command ran on which host, and can fail or hold some of them.
type calls struct {
	mu   sync.Mutex
	ran  []string // "host:cmd"
	fail map[string]bool
}

func (c *calls) hook(_ context.Context, host, cmd string) (*executor.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = append(c.ran, host+":"+cmd)
	if c.fail[host+":"+cmd] {
		return &executor.Result{ExitCode: 1, Stderr: []byte("no")}, nil
	}
	return &executor.Result{Stdout: []byte("ok\n")}, nil
}

func (c *calls) count(hostCmd string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.ran {
		if r == hostCmd {
			n++
		}
	}
	return n
}

// crashAfterApproval parks a two-host run, approves it in the store, and leaves its ledger
// record as a handler that died after the steps in steps would have: running, let go.
func crashAfterApproval(t *testing.T, b *bed, id string, steps map[string]ledger.Step) (code, runID string) {
	t.Helper()
	if err := b.newP("w1").Handle(t.Context(), triggeredOn(id, "a", "b")); err != nil {
		t.Fatal(err)
	}
	m := codeRe.FindStringSubmatch(b.pd.find("Approval needed"))
	if m == nil {
		t.Fatalf("no gate note: %q", b.pd.notes)
	}
	code = m[1]
	req, _, err := b.approv.Get(t.Context(), id, code)
	if err != nil {
		t.Fatal(err)
	}
	runID = req.Run
	if _, err := b.approv.Decide(t.Context(), id, code, approval.Decision{State: approval.StateApproved, By: "PONCALL",
		PlanHash: b.record(t, runID).Gate.PlanHash}); err != nil {
		t.Fatal(err)
	}
	rec := b.record(t, runID)
	rec.State, rec.Owner, rec.Heartbeat = ledger.StateRunning, "", time.Now().Add(-time.Hour)
	for k, s := range steps {
		rec.Steps[k] = s
	}
	data, _ := json.Marshal(rec)
	if _, err := b.runs.Put(t.Context(), "run."+runID, data); err != nil {
		t.Fatal(err)
	}
	return code, runID
}

func done(mutating bool) ledger.Step {
	return ledger.Step{Status: ledger.StepDone, Mutating: mutating, Started: time.Now(), Finished: time.Now()}
}

// Adoption seeds every recorded result: a host whose stop failed is not started, and the note
// does not call it ok.
func TestAdoptionSeedsEveryRecordedResult(t *testing.T) {
	b := newBedInv(t, twoHostRunbook, twoHosts, nil)
	c := &calls{}
	b.runner.hook = c.hook
	failed := ledger.Step{Status: ledger.StepFailed, Mutating: true, ExitCode: 1, Error: "stop failed", Started: time.Now()}
	code, _ := crashAfterApproval(t, b, "PADOPT1", map[string]ledger.Step{"2/a": done(true), "2/b": failed})
	handle(t, b.newP("w2"), approve("PADOPT1", code, "ap-adopt-1"))
	if c.count("b:start-it") != 0 {
		t.Errorf("b was started although its stop had failed: %q", c.ran)
	}
	if c.count("a:start-it") != 1 || c.count("a:stop-it")+c.count("b:stop-it") != 0 {
		t.Errorf("want only a's start to run: %q", c.ran)
	}
	if final := b.pd.last(); !strings.Contains(final, "1/2 hosts ok") || !strings.Contains(final, "✗ b") {
		t.Errorf("the final note must count b as failed: %q", final)
	}
}

// Each host resumes from its own earliest unfinished step: b, never stopped, is stopped before
// it is started.
func TestAdoptionResumesEachHostFromItsOwnStep(t *testing.T) {
	b := newBedInv(t, twoHostRunbook, twoHosts, nil)
	c := &calls{}
	b.runner.hook = c.hook
	code, _ := crashAfterApproval(t, b, "PADOPT2", map[string]ledger.Step{"2/a": done(true)})
	handle(t, b.newP("w2"), approve("PADOPT2", code, "ap-adopt-2"))
	if c.count("a:stop-it") != 0 || c.count("b:stop-it") != 1 {
		t.Errorf("want b stopped once and a not again: %q", c.ran)
	}
	if c.count("a:start-it") != 1 || c.count("b:start-it") != 1 {
		t.Errorf("want both started once: %q", c.ran)
	}
	if final := b.pd.last(); !strings.Contains(final, "2/2 hosts ok") {
		t.Errorf("no final note with both hosts ok: %q", final)
	}
}

// A step whose worker died during it is unknown on its host only: that host's later steps are
// skipped and said so; the other host carries on.
func TestUnknownStepSkipsOnlyItsHost(t *testing.T) {
	b := newBedInv(t, twoHostRunbook, twoHosts, nil)
	c := &calls{}
	b.runner.hook = c.hook
	started := ledger.Step{Status: ledger.StepStarted, Mutating: true, Started: time.Now()}
	code, runID := crashAfterApproval(t, b, "PADOPT3", map[string]ledger.Step{"2/a": started, "2/b": done(true)})
	handle(t, b.newP("w2"), approve("PADOPT3", code, "ap-adopt-3"))
	if c.count("a:stop-it")+c.count("a:start-it") != 0 {
		t.Errorf("a ran again after an unknown step: %q", c.ran)
	}
	if c.count("b:start-it") != 1 {
		t.Errorf("b, whose stop succeeded, was not started: %q", c.ran)
	}
	note := b.pd.last()
	if !strings.Contains(note, "1/2 hosts ok") || !strings.Contains(note, "unknown") || !strings.Contains(note, "skipped") {
		t.Errorf("the note must say a is unknown and its start skipped: %q", b.pd.notes)
	}
	if got := b.record(t, runID); got.State != ledger.StateUnknown {
		t.Errorf("run state = %s, want unknown", got.State)
	}
}

// holdRunbook has a read-only step after the gate that the first handler is held in.
const holdRunbook = `name: gated
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate: {}
  - name: pause
    run: pause-it
  - name: restart
    restart: {service: demo, command: restart-it, verify_command: check-it}
`

// A run taken over from a handler that died after announcing itself does not announce again.
func TestAdoptedRunAnnouncesExecutingOnce(t *testing.T) {
	b := newBedWith(t, holdRunbook)
	b.stale = 200 * time.Millisecond
	b.opts.Heartbeat = time.Hour // the first handler never proves itself alive again: it "died"
	held, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	b.runner.hook = func(ctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "pause-it" && first.CompareAndSwap(false, true) {
			close(held)
			<-release
		}
		return &executor.Result{Stdout: []byte("ok\n")}, nil
	}
	code, runID := b.park(t, b.newP("w1"), "PANN1")
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { close(release) })
	wg.Go(func() { _ = b.newP("w1").Handle(context.WithoutCancel(t.Context()), approve("PANN1", code, "ap-ann")) })
	<-held
	handleOnceDead(t, b, b.newP("w2"), approve("PANN1", code, "ap-ann"), runID)
	if n := countNotes(b.pd, "Executing"); n != 1 {
		t.Errorf("%d \"Executing\" notes, want 1: %q", n, b.pd.notes)
	}
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("restart ran %d times, want 1", n)
	}
}

// handleOnceDead handles ev with p once the run's previous owner counts as dead (the bed's
// short stale time passed on the server's clock since its last write).
func handleOnceDead(t *testing.T, b *bed, p *remediate.Pipeline, ev *incident.Event, runID string) {
	t.Helper()
	probe := ledger.New(b.runs, "probe", b.stale)
	deadline := time.Now().Add(10 * time.Second)
	for _, err := probe.Takeover(t.Context(), runID); err != nil; _, err = probe.Takeover(t.Context(), runID) {
		if !errors.Is(err, ledger.ErrRunElsewhere) || time.Now().After(deadline) {
			t.Fatalf("the dead handler's run cannot be taken over: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the owner goes stale by the passing of time
	}
	handle(t, p, ev)
}

func (f *fakePD) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.notes) == 0 {
		return ""
	}
	return f.notes[len(f.notes)-1]
}

func countNotes(pd *fakePD, want string) int {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	n := 0
	for _, note := range pd.notes {
		if strings.Contains(note, want) {
			n++
		}
	}
	return n
}

// drainer is the stop signal a worker gives its pipeline (absent before this was fixed).
type drainer interface{ Drain() }

// A stop starts no new step that changes a system: the running one finishes, the next is left
// for the worker that adopts the run.
func TestStopStartsNoNewChange(t *testing.T) {
	b := newBedInv(t, twoHostRunbook, twoHosts, nil)
	p := b.newP("w1")
	in, out := make(chan struct{}), make(chan struct{})
	c := &calls{}
	b.runner.hook = func(ctx context.Context, host, cmd string) (*executor.Result, error) {
		if host == "a" && cmd == "stop-it" {
			close(in)
			<-out
		}
		return c.hook(ctx, host, cmd)
	}
	if err := p.Handle(t.Context(), triggeredOn("PSTOP1", "a", "b")); err != nil {
		t.Fatal(err)
	}
	code := codeRe.FindStringSubmatch(b.pd.find("Approval needed"))[1]
	errc := make(chan error, 1)
	go func() { errc <- p.Handle(t.Context(), approve("PSTOP1", code, "ap-stop-1")) }()
	<-in
	if d, ok := any(p).(drainer); ok {
		d.Drain()
	}
	close(out)
	if err := <-errc; err == nil {
		t.Log("handler finished the run during the stop")
	}
	if n := c.count("a:start-it") + c.count("b:start-it"); n != 0 {
		t.Fatalf("%d new steps that change a system started during the stop: %q", n, c.ran)
	}
	if c.count("a:stop-it") != 1 {
		t.Fatalf("the running step did not finish: %q", c.ran)
	}
	handle(t, b.newP("w2"), approve("PSTOP1", code, "ap-stop-1"))
	if c.count("a:start-it") != 1 || c.count("b:start-it") != 1 || c.count("a:stop-it") != 1 {
		t.Errorf("the adopting worker must finish exactly the rest: %q", c.ran)
	}
}

// A step that changes a system and is cut off (the shutdown grace ran out) is unknown, not
// failed: its effect may have happened.
func TestCutOffChangeIsUnknown(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, runID := b.park(t, p, "PCUT1")
	ctx, cut := context.WithCancel(t.Context())
	b.runner.hook = func(hctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "restart-it" {
			cut()
			<-hctx.Done()
			return nil, hctx.Err()
		}
		return &executor.Result{}, nil
	}
	err := p.Handle(ctx, approve("PCUT1", code, "ap-cut-1"))
	if err == nil {
		t.Log("the cut handler reported no error")
	}
	if st := b.record(t, runID).Steps["2/here"]; st.Status != ledger.StepUnknown {
		t.Fatalf("cut-off restart recorded %q, want unknown", st.Status)
	}
	if errors.Is(err, context.Canceled) {
		handle(t, b.newP("w2"), approve("PCUT1", code, "ap-cut-1"))
	}
	if b.pd.find("unknown") == "" || b.runner.count("restart-it") != 1 {
		t.Errorf("the cut-off restart must be reported unknown and not run again: %q", b.pd.notes)
	}
}

// A panic while a step runs on one host is that step's failure, with the stack in the log: the
// process does not crash and the run ends with its note.
func TestPanicInAHostStepIsAFailedStep(t *testing.T) {
	b := newBedWith(t, diagRunbook)
	b.runner.hook = func(_ context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "uptime" {
			panic("bug in a step")
		}
		return &executor.Result{Stdout: []byte("ok\n")}, nil
	}
	handle(t, b.newP("w1"), triggered("PPANIC1"))
	final := b.pd.last()
	if !strings.Contains(final, "0/1 hosts ok") || !strings.Contains(final, "internal error") {
		t.Fatalf("the panic must be the step's failure on the note: %q", final)
	}
}

// A handler that runs past its deadline is stopped and the run ends with a note that says so.
func TestHandlerDeadlineEndsTheRunWithANote(t *testing.T) {
	b := newBedWith(t, diagRunbook)
	b.opts.HandlerTimeout = 300 * time.Millisecond
	b.runner.hook = func(ctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "uptime" {
			<-ctx.Done() // hangs until the deadline
			return nil, ctx.Err()
		}
		return &executor.Result{Stdout: []byte("ok\n")}, nil
	}
	handle(t, b.newP("w1"), triggered("PDEAD1"))
	if b.pd.find("handler deadline") == "" {
		t.Fatalf("no note says the handler deadline stopped the run: %q", b.pd.notes)
	}
	if n := b.runner.count("df -h"); n != 0 {
		t.Errorf("a step started after the deadline")
	}
}
