package remediate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/outbox"
)

// A refusal by the fleet's limits that passes with time (a cooldown, a busy host after the
// lease wait, the action cap, a hold) does not use up an approval while the run has changed
// nothing since its gate: the gate returns to pending with a fresh expiry, the run parks at it
// again exactly as before, and the note says why and when to approve again. Once a change has
// started on any host, part of the approved plan ran: the refused host's remaining steps are
// skipped and the note says so.

// guard is guardAction for a run that may still give its approval back: once one host was
// refused and nothing has changed, the other hosts do not start their change either, so the
// whole run waits at its gate instead of running on some hosts only.
func (p *Pipeline) guard(ctx context.Context, run *Run, host string) *denial {
	if d := run.firstDenial(); d != nil && p.canReopen(run) {
		return &denial{later: true, until: d.until, why: "not started: the change was refused on another host of this run (" + d.why + ")"}
	}
	return p.guardAction(ctx, run, host)
}

// canReopen reports whether the run's approval can still be given back: it has one, and no
// step that changes a system has started on any host since its gate.
func (p *Pipeline) canReopen(run *Run) bool {
	return p.Gates != nil && run.Approval != nil && run.From > 0 && !changedSince(run.Ledger.Record(), run.From)
}

// changedSince reports whether a step at index from or later that changes a system has a
// record other than skipped: it started, so it changed (or may have changed) its host.
func changedSince(rec ledger.Record, from int) bool {
	for key, st := range rec.Steps {
		index, _, _ := strings.Cut(key, "/")
		if i, err := strconv.Atoi(index); err == nil && i >= from && st.Mutating && st.Status != ledger.StepSkipped {
			return true
		}
	}
	return false
}

// firstDenial is a refusal of this run that would give the approval back, or nil.
func (r *Run) firstDenial() *denial {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, steps := range r.Results {
		for _, res := range steps {
			if res.denied != nil {
				return res.denied
			}
		}
	}
	return nil
}

// denied lists the refused hosts' results, and clears them when spent: from then on they are
// failures like any other, said so in the note.
func (r *Run) denials(spent bool) []*HostResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*HostResult
	for _, steps := range r.Results {
		for _, res := range steps {
			if res.denied == nil {
				continue
			}
			out = append(out, res)
			if spent {
				res.denied = nil
				res.Err += "; part of the approved plan already ran, so this host's remaining steps are skipped"
			}
		}
	}
	return out
}

// afterDenials acts on the refusals of the step just run: none, nothing; nothing changed yet,
// the gate is pending again (errStop); else they stay failures.
func (p *Pipeline) afterDenials(ctx context.Context, run *Run) error {
	if run.firstDenial() == nil {
		return nil
	}
	if !p.canReopen(run) {
		run.denials(true)
		return nil
	}
	return p.reopen(ctx, run)
}

// reopen returns the run's gate to pending (approval first, so that a failure after it leaves
// a gate someone can approve, never an approval nobody can use), says so on the incident and
// parks the run at the gate again. The steps after the gate that did run (read-only ones) are
// forgotten, so the next approval runs them again on the situation as it is then.
func (p *Pipeline) reopen(ctx context.Context, run *Run) error {
	denied := run.denials(false)
	var notBefore time.Time
	for _, res := range denied {
		notBefore = later(notBefore, res.denied.until)
	}
	gate := &run.Plan.Steps[run.From-1]
	window := approval.DefaultExpiry
	if gate.Gate != nil && gate.Gate.Expires > 0 {
		window = gate.Gate.Expires
	}
	req, err := p.Gates.Store.Reopen(ctx, run.Event.Incident.ID, run.Approval.Code, approval.Reopening{
		Reason: denied[0].denied.why, NotBefore: notBefore, Window: window})
	if approval.Refused(err) {
		run.denials(true) // decided otherwise meanwhile: the approval cannot be given back
		return nil
	}
	if err != nil {
		return classify(fmt.Errorf("reopen gate: %w", err))
	}
	slot := fmt.Sprintf("reopen.%s.%d", req.Code, req.Reopens)
	id, content := run.ID+"."+slot, reopenNote(run, req, denied, notBefore)
	if err := p.Outbox.Enqueue(ctx, id, run.Event.Incident.ID, p.Redactor.String(content)); err != nil {
		return classify(err)
	}
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) { reparked(r, req, run.From) }); err != nil {
		return p.ledgerErr(ctx, run.ID, err)
	}
	p.Metrics.decisions.WithLabelValues("reopened").Inc()
	p.Logger.InfoContext(ctx, "approved change refused before anything changed; gate pending again",
		"run", run.ID, "code", req.Code, "reason", req.Reason, "expires", req.Expires)
	if err := p.Outbox.Deliver(ctx, id); err != nil {
		p.Logger.WarnContext(ctx, "note not posted yet; the outbox will retry", "id", id, "err", err)
	}
	p.threadReply(ctx, run.ID, run.Event.Incident.ID, slot, p.Redactor.String(content), &outbox.Buttons{Incident: run.Event.Incident.ID, Code: req.Code})
	p.threadTop(ctx, run, stateWaiting)
	return errStop
}

// reparked is the record of a run parked again at its gate after req was reopened.
func reparked(r *ledger.Record, req *approval.Request, from int) {
	r.State, r.Reason, r.Noted, r.Announced = ledger.StateParked, "gate pending again: "+req.Reason, true, ""
	if r.Gate != nil {
		g := *r.Gate // the record's copies share the pointer: change a copy
		g.Expires = req.Expires
		r.Gate = &g
	}
	for key := range r.Steps {
		index, _, _ := strings.Cut(key, "/")
		if i, err := strconv.Atoi(index); err == nil && i >= from {
			delete(r.Steps, key)
		}
	}
	r.Approvals = append(r.Approvals, evidence.Approval{Gate: req.Gate, Code: req.Code, PlanHash: req.PlanHash,
		Decision: "reopened", By: "alaya", Reason: req.Reason, At: req.Reopened})
}

// reopenNote says the approved change did not start, why, and when and how to approve again.
func reopenNote(run *Run, req *approval.Request, denied []*HostResult, notBefore time.Time) string {
	var b strings.Builder
	printf(&b, "Alaya · %s: the approved change was not started, and nothing was changed:\n", run.Runbook.Name)
	for _, res := range denied {
		printf(&b, "  %s: %s\n", res.Host, oneLine(res.denied.why))
	}
	printf(&b, "The approval is not used up: gate %s (code %s) is pending again until %s.\n",
		req.Gate, req.Code, req.Expires.UTC().Format("15:04:05Z"))
	if !notBefore.IsZero() {
		printf(&b, "Approve again after %s.\n", notBefore.UTC().Format("15:04:05Z"))
	} else {
		b.WriteString("Approve again once the reason above has passed.\n")
	}
	b.WriteString(approval.Instructions(req.Code))
	b.WriteString("Run " + run.ID)
	return b.String()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
