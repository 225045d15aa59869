package remediate_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/safety"
)

// coolingRunbook is the gated runbook with a cooldown on the host.
var coolingRunbook = strings.Replace(gatedRunbook, "steps:\n", "limits: {cooldown: 1h}\nsteps:\n", 1)

func withSafety(b *bed, limits safety.Limits) *safety.Guard {
	g := safety.New(b.leases, b.runs, b.switches)
	b.safety = &remediate.Safety{Guard: g, Limits: limits}
	return g
}

func TestCooldownRefusesASecondRestartOfTheSameHost(t *testing.T) {
	b := newBedWith(t, coolingRunbook)
	withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PINC1")
	handle(t, p, approve("PINC1", code, "ap-1"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("first approved restart ran %d times", n)
	}
	b.pd.notes = nil
	code2, _ := b.park(t, p, "PINC2")
	handle(t, p, approve("PINC2", code2, "ap-2"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("restart ran again on the same host within its cooldown (%d runs)", n)
	}
	if b.pd.find("cooldown: gated changed here") == "" {
		t.Errorf("no note explains the cooldown: %q", b.pd.notes)
	}
}

func TestKillSwitchStopsAnApprovedRunBeforeItsNextStep(t *testing.T) {
	b := newBed(t)
	g := withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PINC3")
	if err := g.SetSwitch(t.Context(), safety.SwitchKill, true); err != nil {
		t.Fatal(err)
	}
	handle(t, p, approve("PINC3", code, "ap-3"))
	if n := b.runner.count("restart-it"); n != 0 {
		t.Errorf("restart ran %d times with the kill switch on", n)
	}
	final := b.pd.find("kill switch is on")
	if final == "" {
		t.Errorf("no note says the kill switch stopped the run: %q", b.pd.notes)
	}
	// The host never got its restart: the note must not call it ok (chaos TestFreezeNATS
	// found "1/1 hosts ok" above "stopped before step restart").
	if strings.Contains(final, "1/1 hosts ok") || !strings.Contains(final, "stopped before the end of the plan") {
		t.Errorf("a run stopped before its restart reads as done:\n%s", final)
	}
}

func TestStormModeRunsDiagnosticsOnly(t *testing.T) {
	b := newBed(t)
	withSafety(b, safety.Limits{StormIncidents: 1, StormWindow: time.Hour})
	p := b.newP("w1")
	b.park(t, p, "PINC4") // the first incident is below the threshold: a plan is proposed
	b.pd.notes = nil
	handle(t, p, triggered("PINC5"))
	note := b.pd.find("storm mode")
	if note == "" || strings.Contains(note, "/alaya approve") {
		t.Errorf("second incident in a storm: want diagnostics and no plan, got %q", b.pd.notes)
	}
	if !strings.Contains(note, "look: ok") || !strings.Contains(note, "not run: restart") {
		t.Errorf("storm note lacks the diagnostics, or what was not run: %q", note)
	}
}

func TestDryRunReportsInsteadOfChanging(t *testing.T) {
	b := newBed(t)
	g := withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PINCDRY")
	if err := g.SetSwitch(t.Context(), safety.SwitchDryRun, true); err != nil {
		t.Fatal(err)
	}
	handle(t, p, approve("PINCDRY", code, "ap-dry"))
	if n := b.runner.count("restart-it"); n != 0 {
		t.Errorf("restart ran %d times in dry-run", n)
	}
	if b.pd.find("dry run, not executed") == "" {
		t.Errorf("no note says the step was not executed: %q", b.pd.notes)
	}
}

// A host another run is changing delays an approved change instead of refusing it (which
// would use up the approval): the run waits, says so, and goes on once the host is free.
func TestBusyHostIsWaitedForNotRefused(t *testing.T) {
	b := newBed(t)
	g := withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PBUSY1")
	other, err := g.AcquireHost(t.Context(), "here", "another-run", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() {
		for ctx.Err() == nil && b.pd.find("waiting up to") == "" {
			time.Sleep(20 * time.Millisecond) // polls the notes the run posts
		}
		other.Release(context.WithoutCancel(ctx))
	}()
	handle(t, p, approve("PBUSY1", code, "ap-busy-1"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("restart ran %d times after the host was freed, want 1; notes: %q", n, b.pd.notes)
	}
}

// A change cut off in the middle leaves its host held: the next approved change on it is
// refused with the way out, until a person clears the hold.
func TestUnknownOutcomeHoldsTheHost(t *testing.T) {
	b := newBed(t)
	g := withSafety(b, safety.Limits{})
	p := b.newP("w1")
	code, _ := b.park(t, p, "PHOLD1")
	ctx, cut := context.WithCancel(t.Context())
	b.runner.hook = func(hctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "restart-it" {
			cut()
			<-hctx.Done()
			return nil, hctx.Err()
		}
		return &executor.Result{}, nil
	}
	_ = p.Handle(ctx, approve("PHOLD1", code, "ap-hold-1"))
	handle(t, b.newP("w2"), approve("PHOLD1", code, "ap-hold-1")) // adopted and reported
	if h, err := g.Held(t.Context(), "here"); err != nil || h == nil {
		t.Fatalf("host not held after an unknown outcome: %v", err)
	}
	if b.pd.find("alaya holds clear here") == "" {
		t.Errorf("the note does not say how to clear the hold: %q", b.pd.notes)
	}
	b.runner.hook = nil
	b.pd.notes = nil
	code2, _ := b.park(t, p, "PHOLD2")
	handle(t, p, approve("PHOLD2", code2, "ap-hold-2"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("a held host was changed again: restart ran %d times", n)
	}
	if err := g.ClearHold(t.Context(), "here"); err != nil {
		t.Fatal(err)
	}
	b.pd.notes = nil
	code3, _ := b.park(t, p, "PHOLD3")
	handle(t, p, approve("PHOLD3", code3, "ap-hold-3"))
	if n := b.runner.count("restart-it"); n != 2 {
		t.Errorf("after clearing the hold the restart should run: it ran %d times in all", n)
	}
}

// A change whose host lease another run took is stopped, and its outcome is unknown: it may not
// go on unguarded, and it may have taken effect.
func TestLostLeaseStopsTheChange(t *testing.T) {
	b := newBed(t)
	withSafety(b, safety.Limits{})
	b.opts.LeaseRenew = 50 * time.Millisecond
	p := b.newP("w1")
	code, runID := b.park(t, p, "PLOST1")
	b.runner.hook = func(hctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd != "restart-it" {
			return &executor.Result{}, nil
		}
		// Another run takes the host, as if this run's lease had expired.
		if err := b.leases.Purge(hctx, "host.here"); err != nil {
			return nil, err
		}
		if _, err := b.leases.Create(hctx, "host.here", []byte(`{"owner":"thief","nonce":"x"}`)); err != nil {
			return nil, err
		}
		<-hctx.Done()
		return nil, hctx.Err()
	}
	handle(t, p, approve("PLOST1", code, "ap-lost-1"))
	if st := b.record(t, runID).Steps["2/here"]; st.Status != ledger.StepUnknown {
		t.Fatalf("a change that lost its lease recorded %q, want unknown", st.Status)
	}
	if b.pd.find("lease was lost") == "" {
		t.Errorf("the note does not say the lease was lost: %q", b.pd.notes)
	}
}

// unansweredSwitches is the real switches bucket whose first reads go unanswered, as while
// the whole NATS cluster is frozen or re-electing its leaders.
type unansweredSwitches struct {
	jetstream.KeyValue
	left atomic.Int32
}

func (k *unansweredSwitches) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if k.left.Add(-1) >= 0 {
		return nil, fmt.Errorf("get %s: %w", key, context.DeadlineExceeded)
	}
	return k.KeyValue.Get(ctx, key)
}

// Switches that cannot be read for a moment are read again, not taken for on: TestFreezeNATS
// found runs stopped with "kill switch is on" and restarts skipped as "dry run" (their hosts
// reported ok) while neither switch was on, only unreadable during the freeze.
func TestUnreadableSwitchesAreNotReportedOn(t *testing.T) {
	b := newBed(t)
	switches := &unansweredSwitches{KeyValue: b.switches}
	b.safety = &remediate.Safety{Guard: safety.New(b.leases, b.runs, switches)}
	p := b.newP("w1")
	code, _ := b.park(t, p, "PINCSW")
	switches.left.Store(3)
	handle(t, p, approve("PINCSW", code, "ap-sw"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("restart ran %d times, want once: the switches are off", n)
	}
	for _, claim := range []string{"kill switch is on", "dry run"} {
		if n := b.pd.find(claim); n != "" {
			t.Errorf("a note says %q though the switch is off:\n%s", claim, n)
		}
	}
}
