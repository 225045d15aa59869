package remediate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	if rec := n.h.Record(); rec.State != ledger.StateParked {
		if rec.State == ledger.StateRunning {
			return p.executing(ctx, n) // a worker parked it and stopped before saying so, or runs it
		}
		return p.replayNote(ctx, req, n.ev, rec)
	}
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
	run.last = n.last
	return p.runStages(ctx, run, "announce")
}

// executing answers an approval for a run that is executing: a live owner is left alone and
// the note says so; a dead owner's run is adopted.
func (p *Pipeline) executing(ctx context.Context, n *note) error {
	err := p.adoptApproved(ctx, n)
	if !errors.Is(err, ledger.ErrRunElsewhere) {
		return err
	}
	content := fmt.Sprintf("Alaya · approve %s: already approved by %s, executing. This note changes nothing.", n.req.Code, who(n.req))
	return p.note(ctx, "executing."+digest(n.ev.ID), n.req.Incident, content)
}

// announce posts the "approved, executing" note of a run resumed by an approval, once per
// gate: the ledger remembers it, so a handler that adopts the run does not announce it again.
func (p *Pipeline) announce(ctx context.Context, run *Run) error {
	req := run.Approval
	if req == nil || run.Failure != "" || run.Ledger.Record().Announced == req.Code {
		return nil
	}
	n := len(run.Plan.Steps) - run.From
	steps := "steps"
	if n == 1 {
		steps = "step"
	}
	content := fmt.Sprintf("Alaya · %s: approved by %s%s (code %s, plan %s). Executing %d %s on %s.\nRun %s",
		run.Runbook.Name, who(req), via(run.Ledger.Record().Approvals, req.Code), req.Code, short(req.PlanHash), n, steps, strings.Join(run.Plan.Targets, ", "), run.ID)
	slot := "start." + req.Code
	if req.Reopens > 0 {
		slot += "." + strconv.Itoa(req.Reopens) // approved again after the gate was reopened
	}
	id := run.ID + "." + slot
	if err := p.Outbox.Enqueue(ctx, id, run.Event.Incident.ID, p.Redactor.String(content)); err != nil {
		return classify(err)
	}
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) { r.Announced = req.Code }); err != nil {
		return p.ledgerErr(ctx, run.ID, err)
	}
	if err := p.Outbox.Deliver(ctx, id); err != nil {
		p.Logger.WarnContext(ctx, "note not posted yet; the outbox will retry", "id", id, "err", err)
	}
	p.threadReply(ctx, run.ID, run.Event.Incident.ID, slot, p.Redactor.String(content), nil)
	p.gateDecided(ctx, req, "✅ approved by "+who(req)+": executing, see below")
	p.threadTop(ctx, run, stateExecuting)
	p.Logger.InfoContext(ctx, "run resumed", "run", run.ID, "from_step", run.From)
	return nil
}

// rebuild makes the Run of a parked record again, on any worker: the runbook of the same
// name from the catalog in force, planned against the stored trigger. execute carries the
// recorded results over from the ledger, so that a host whose diagnostics failed is not acted on.
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
	return run, nil
}

// adoptApproved handles an approval delivered again while its run is marked running: if the
// handler executing it is alive, ErrRunElsewhere; if it died or let go, the run is adopted like
// any other (adopt) and continues from each host's earliest unfinished step.
func (p *Pipeline) adoptApproved(ctx context.Context, n *note) error {
	req := n.req
	h, err := p.Ledger.Takeover(ctx, req.Run)
	if err != nil {
		return p.ledgerErr(ctx, req.Run, err)
	}
	if rec := h.Record(); rec.State != ledger.StateRunning {
		// It ended, or parked at its gate again (reopened), since the approval was read:
		// nothing to adopt, and this approval must not start it.
		return p.replayNote(ctx, req, nil, rec)
	}
	run, err := p.rebuild(h)
	if err != nil {
		return p.closeGate(ctx, req, "not executed: "+err.Error())
	}
	if err := p.adopt(ctx, run, h); err != nil {
		return err
	}
	run.Approval, run.last = req, n.last
	return p.runStages(ctx, run, "announce")
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

// via says where the decision on code was taken when it was not a note on the incident, so the
// incident records that a button in Slack (or the page) approved it.
func via(approvals []evidence.Approval, code string) string {
	for i := len(approvals) - 1; i >= 0; i-- {
		switch a := approvals[i]; {
		case a.Code != code:
		case a.Via == "slack":
			return " in Slack"
		case a.Via == "page":
			return " on the approval page"
		default:
			return ""
		}
	}
	return ""
}
