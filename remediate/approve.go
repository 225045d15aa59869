package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
)

// onAnnotated takes a note (from PagerDuty, or the approval page's equivalent) through the
// approval path. Notes that are not commands, and Alaya's own, are dropped before any API
// call; every other outcome, refusals included, is written on the incident.
func (p *Pipeline) onAnnotated(ctx context.Context, ev *incident.Event) error {
	if p.Gates == nil || ev.Note == nil || p.Gates.Policy.IsSelf(ev.Note.Author) {
		return nil
	}
	if _, ok := approval.ParseCommand(ev.Note.Content); !ok {
		return nil
	}
	inc, err := p.Gates.Incidents.Incident(ctx, ev.Incident.ID)
	if err != nil {
		return classify(fmt.Errorf("approval: incident %s: %w", ev.Incident.ID, err))
	}
	req, cmd, err := approval.ApplyNote(ctx, p.Gates.Store, p.Gates.Policy, ev.Note, inc, p.planHash)
	switch {
	case errors.Is(err, approval.ErrNoCommand) || errors.Is(err, approval.ErrSelf):
		return nil
	case errors.Is(err, approval.ErrAlreadyDecided) && req != nil && req.State == approval.StateApproved:
		// The decision was taken, but the run may not have been resumed (a worker died in
		// between): resume decides from the ledger, which says whether anything started.
		return p.resume(ctx, req, ev)
	case approval.Refused(err):
		p.Metrics.decisions.WithLabelValues(approval.Reason(err)).Inc()
		return p.refuseNote(ctx, ev, cmd, err)
	case err != nil:
		return classify(fmt.Errorf("approval: %w", err))
	}
	p.Metrics.decisions.WithLabelValues(string(req.State)).Inc()
	if err := p.recordDecision(ctx, req, ev); err != nil {
		return err
	}
	if req.State == approval.StateRejected {
		return p.closeGate(ctx, req, fmt.Sprintf("rejected by %s%s", who(req), reasonSuffix(req.Reason)))
	}
	return p.resume(ctx, req, ev)
}

// planHash rebuilds the plan a request was made for from the run's stored trigger, with the
// runbooks and inventory in force now, and hashes it. A runbook that is gone or can no longer
// plan yields "" (the policy refuses: the plan changed), not an error to retry.
func (p *Pipeline) planHash(ctx context.Context, r *approval.Request) (string, error) {
	h, err := p.Ledger.Load(ctx, r.Run)
	if err != nil {
		return "", err
	}
	run, err := p.rebuild(h)
	if err != nil {
		p.Logger.WarnContext(ctx, "plan cannot be rebuilt", "run", r.Run, "err", err)
		return "", nil
	}
	return run.Plan.Hash(), nil
}

// recordDecision writes the decision into the run's ledger before anything is executed, so
// the manifest can say who approved what.
func (p *Pipeline) recordDecision(ctx context.Context, req *approval.Request, ev *incident.Event) error {
	h, err := p.Ledger.Load(ctx, req.Run)
	if err != nil {
		return classify(err)
	}
	a := decisionRecord(req, ev)
	err = h.Update(ctx, func(r *ledger.Record) { r.Approvals = append(r.Approvals, a) })
	return classify(err)
}

func decisionRecord(req *approval.Request, ev *incident.Event) evidence.Approval {
	via := "note"
	if ev != nil && ev.Source == page.Source {
		via = "page"
	}
	at := req.DecidedAt
	if at.IsZero() {
		at = time.Now()
	}
	return evidence.Approval{Gate: req.Gate, Code: req.Code, PlanHash: req.PlanHash, Decision: string(req.State),
		By: who(req), Via: via, Reason: req.Reason, At: at}
}

// refuseNote writes a refusal and its reason on the incident. The note's outbox id derives
// from the event, so a redelivered event does not write it twice.
func (p *Pipeline) refuseNote(ctx context.Context, ev *incident.Event, cmd approval.Command, err error) error {
	var ref *approval.Refusal
	detail := err.Error()
	if errors.As(err, &ref) && ref.Detail != "" {
		detail = ref.Detail
	}
	content := fmt.Sprintf("Alaya · %s %s not accepted: %s. Nothing was executed.", cmd.Verb, cmd.Code, detail)
	p.Logger.InfoContext(ctx, "approval refused", "incident", ev.Incident.ID, "reason", approval.Reason(err))
	return p.note(ctx, "refusal."+digest(ev.ID), ev.Incident.ID, content)
}

// note enqueues a note and tries to deliver it now; the outbox retries what fails.
func (p *Pipeline) note(ctx context.Context, id, incidentID, content string) error {
	if err := p.Outbox.Enqueue(ctx, id, incidentID, p.Redactor.String(content)); err != nil {
		return classify(err)
	}
	if err := p.Outbox.Deliver(ctx, id); err != nil {
		p.Logger.WarnContext(ctx, "note not posted yet; the outbox will retry", "id", id, "err", err)
	}
	return nil
}

// closeGate ends a parked run whose gate will not be approved (rejected, expired, cancelled)
// and says so on the incident. Only a parked run changes; the note is written once per gate.
func (p *Pipeline) closeGate(ctx context.Context, req *approval.Request, why string) error {
	h, err := p.Ledger.Load(ctx, req.Run)
	if err != nil {
		return classify(err)
	}
	if h.Record().State == ledger.StateParked {
		err := h.Update(ctx, func(r *ledger.Record) {
			r.State, r.Reason = ledger.StateRejected, why
			if req.State == approval.StateExpired || req.State == approval.StateCancelled {
				r.Approvals = append(r.Approvals, decisionRecord(req, nil))
			}
		})
		if err != nil {
			return classify(err)
		}
	}
	content := fmt.Sprintf("Alaya · %s: gate %s (code %s) %s. Nothing after the gate was executed.\nRun %s",
		req.Runbook, req.Gate, req.Code, why, req.Run)
	return p.note(ctx, req.Run+".closed."+req.Code, req.Incident, content)
}

// onResolved cancels the incident's pending gates and reports each.
func (p *Pipeline) onResolved(ctx context.Context, ev *incident.Event) error {
	if p.Gates == nil {
		return nil
	}
	cancelled, err := p.Gates.Store.CancelIncident(ctx, ev.Incident.ID, "the incident was resolved")
	var errs []error
	if err != nil {
		errs = append(errs, classify(err))
	}
	for _, req := range cancelled {
		if err := p.closeGate(ctx, req, "cancelled: the incident was resolved"); err != nil {
			errs = append(errs, err)
		}
	}
	return joinClassified(errs)
}

func who(req *approval.Request) string {
	if req.DecidedByName != "" {
		return req.DecidedByName
	}
	return req.DecidedBy
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + oneLine(reason)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
