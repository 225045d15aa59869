package remediate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/runbooks"
)

// start continues an approved run on this worker, whichever worker parked it, if the approval
// still holds now: within its start deadline, the incident open, the plan the one approved.
// The ledger decides who starts: compare-and-swap parked → running on the revision read when
// the note came in, so of two workers (or a replayed approval) exactly one proceeds.
func (p *Pipeline) start(ctx context.Context, n *note, run *Run) error {
	req := n.req
	switch {
	case !n.now.Before(req.StartBy):
		return p.lapse(ctx, req, fmt.Sprintf("cancelled: approved by %s but not started by %s", who(req), req.StartBy.UTC().Format("15:04:05Z")))
	case !n.inc.Open():
		return p.lapse(ctx, req, "cancelled: the incident was resolved")
	case run.Plan.Hash() != req.PlanHash:
		return p.closeGate(ctx, req, "not executed: the plan changed since it was approved")
	}
	if err := n.h.Update(ctx, func(r *ledger.Record) { r.State, r.Noted = ledger.StateRunning, false }); err != nil {
		if cur, lerr := p.Ledger.Load(ctx, req.Run); lerr == nil && cur.Record().State != ledger.StateParked {
			return nil // another worker took it first
		}
		return classify(err)
	}
	if _, err := p.Gates.Store.Settle(ctx, req.Incident, req.Code, ""); err != nil {
		p.Logger.WarnContext(ctx, "approval not marked started; the sweeper will", "run", req.Run, "err", err)
	}
	return p.continueRun(ctx, run)
}

// executing answers an approval for a run that is executing: a live owner is left alone and
// the note says so; a dead owner's run is adopted.
func (p *Pipeline) executing(ctx context.Context, n *note) error {
	err := p.adoptApproved(ctx, n.req)
	if !errors.Is(err, ledger.ErrRunElsewhere) {
		return err
	}
	content := fmt.Sprintf("Alaya · approve %s: already approved by %s, executing. This note changes nothing.", n.req.Code, who(n.req))
	return p.note(ctx, "executing."+digest(n.ev.ID), n.req.Incident, content)
}

// continueRun posts the start note and runs the rest of the stages from the gate on.
func (p *Pipeline) continueRun(ctx context.Context, run *Run) error {
	p.restoreEarlierOutput(ctx, run)
	if m, err := evidence.ReadManifest(ctx, p.Store, run.Event.Incident.ID, run.ID); err == nil {
		run.Manifest = m
	}
	req := run.Approval
	n := len(run.Plan.Steps) - run.From
	steps := "steps"
	if n == 1 {
		steps = "step"
	}
	content := fmt.Sprintf("Alaya · %s: approved by %s (code %s, plan %s). Executing %d %s on %s.\nRun %s",
		run.Runbook.Name, who(req), req.Code, short(req.PlanHash), n, steps, strings.Join(run.Plan.Targets, ", "), run.ID)
	if err := p.note(ctx, run.ID+".start."+req.Code, run.Event.Incident.ID, content); err != nil {
		return err
	}
	p.Logger.InfoContext(ctx, "run resumed", "run", run.ID, "from_step", run.From)
	for _, stage := range []func(context.Context, *Run) error{p.execute, p.record, p.annotate} {
		if err := stage(ctx, run); errors.Is(err, errStop) {
			return nil
		} else if err != nil {
			return err
		}
	}
	p.Metrics.runs.WithLabelValues(run.Runbook.Name, run.outcome()).Inc()
	return nil
}

// rebuild makes the Run of a parked record again, on any worker: the runbook of the same
// name from the catalog in force, planned against the stored trigger. The results of the
// steps before the gate are carried over from the ledger so that a host whose diagnostics
// failed is not acted on.
func (p *Pipeline) rebuild(h *ledger.Handle) (*Run, error) {
	rec := h.Record()
	if rec.Trigger == nil {
		return nil, fmt.Errorf("run %s has no stored trigger", rec.ID)
	}
	rb := p.Catalog().Runbook(rec.Runbook)
	if rb == nil {
		return nil, fmt.Errorf("runbook %s is no longer loaded", rec.Runbook)
	}
	pl, err := rb.Plan(rec.Trigger, p.Inventory)
	if err != nil {
		return nil, err
	}
	run := &Run{
		ID: rec.ID, Event: rec.Trigger, Runbook: rb, Plan: pl, Ledger: h, Resumed: true, From: rec.NextStep,
		Decision: runbooks.Decision{Runbook: rb, Matched: true, Why: pl.Why},
		Results:  map[string]map[string]*HostResult{}, Started: time.Now(),
	}
	run.seedEarlier(rec)
	return run, nil
}

// seedEarlier restores what the ledger knows of the steps before the gate.
func (r *Run) seedEarlier(rec ledger.Record) {
	for i := 0; i < r.From && i < len(r.Plan.Steps); i++ {
		for _, host := range r.Plan.Targets {
			st, ok := rec.Steps[ledger.StepKey(i, host)]
			if !ok {
				continue
			}
			res := &HostResult{Step: r.Plan.Steps[i].Name, Index: i, Host: host, ExitCode: st.ExitCode, Err: st.Error, Earlier: true}
			if st.Status == ledger.StepSkipped {
				res.Skipped = "skipped"
			}
			r.setResult(res)
		}
	}
}

// adoptApproved handles an approval delivered again while its run is marked running: if the
// owner is alive, it is retried later; if it died, the run is adopted and, should a step that
// changes a system have been started, reported unknown instead of being run again.
func (p *Pipeline) adoptApproved(ctx context.Context, req *approval.Request) error {
	h, err := p.Ledger.Takeover(ctx, req.Run)
	if errors.Is(err, ledger.ErrRunElsewhere) {
		return err
	}
	if err != nil {
		return classify(err)
	}
	run, err := p.rebuild(h)
	if err != nil {
		return p.closeGate(ctx, req, "not executed: "+err.Error())
	}
	run.Approval, run.Resumed = req, true
	unknown, err := h.Adopt(ctx)
	if err != nil {
		return classify(err)
	}
	if len(unknown) > 0 {
		run.fail(fmt.Sprintf("state unknown: a worker stopped during %s, which changes a system; "+
			"Alaya will not run it again. Check the host before acting.", strings.Join(unknown, ", ")))
		return ignoreStop(p.finishEarly(ctx, run))
	}
	run.From = firstUnstarted(h.Record(), run)
	return p.continueRun(ctx, run)
}

// firstUnstarted is the first step after the gate with no record on any host.
func firstUnstarted(rec ledger.Record, run *Run) int {
	for i := run.From; i < len(run.Plan.Steps); i++ {
		if !anyStarted(rec, run.Plan.Targets, i) {
			return i
		}
	}
	return len(run.Plan.Steps)
}

func anyStarted(rec ledger.Record, hosts []string, step int) bool {
	for _, host := range hosts {
		if _, ok := rec.Steps[ledger.StepKey(step, host)]; ok {
			return true
		}
	}
	return false
}

// replayNote answers an approval that arrives for a run already resumed or closed.
func (p *Pipeline) replayNote(ctx context.Context, req *approval.Request, ev *incident.Event, rec ledger.Record) error {
	content := fmt.Sprintf("Alaya · approve %s not accepted: already %s by %s; the run is %s. Nothing was executed again.",
		req.Code, req.State, who(req), rec.State)
	id := "replay." + req.Run + "." + req.Code
	if ev != nil {
		id = "refusal." + digest(ev.ID)
	}
	return p.note(ctx, id, req.Incident, content)
}

func ignoreStop(err error) error {
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
