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
)

// Gates that end without running what they guard: rejected, expired while pending, cancelled
// by a resolve, or approved but not started before the start deadline. Every worker sweeps on
// a ticker; compare-and-swap on the approval and on the run ledger makes exactly one of them
// report each gate, and the time compared is the NATS server's (approval.Store.Now).

// ExpireGates expires every pending gate whose time is up, lapses every approved gate whose
// run did not start by its deadline, and closes the run of every gate that ended (these, and
// earlier ones whose closing failed half way) and reports it on its incident.
func (p *Pipeline) ExpireGates(ctx context.Context) error {
	if p.Gates == nil {
		return nil
	}
	expired, err := p.Gates.Store.ExpireDue(ctx)
	for range expired {
		p.Metrics.decisions.WithLabelValues(string(approval.StateExpired)).Inc()
	}
	return errors.Join(err, p.lapseDue(ctx), p.closeDue(ctx))
}

// closeDue closes the run of every gate that ended and is not closed yet: expired by this
// sweep or another, or rejected, cancelled or lapsed where the closing failed after the
// decision (a ledger write, a note). Every step of a close may be done again.
func (p *Pipeline) closeDue(ctx context.Context) error {
	closing, err := p.Gates.Store.Closing(ctx)
	errs := []error{err}
	for _, req := range closing {
		errs = append(errs, p.endGate(ctx, req, endWhy(req), req.Settled))
	}
	return errors.Join(errs...)
}

// endWhy says how a gate ended, from the request alone, the same words whichever worker or
// sweep says it (the note's id and content make it one note).
func endWhy(req *approval.Request) string {
	switch {
	case req.State == approval.StateExpired:
		return "expired: no decision by " + req.Expires.UTC().Format("15:04:05Z")
	case req.State == approval.StateRejected:
		return fmt.Sprintf("rejected by %s%s", who(req), reasonSuffix(req.Reason))
	case req.Settled:
		return req.Reason // lapsed: Settle kept the whole sentence
	}
	return "cancelled: " + req.Reason
}

// lapseDue ends approved gates whose run has not started by the approval's deadline.
func (p *Pipeline) lapseDue(ctx context.Context) error {
	approved, err := p.Gates.Store.Unsettled(ctx, "")
	if err != nil {
		return err
	}
	now, err := p.Gates.Store.Now(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, req := range approved {
		if now.Before(req.StartBy) {
			continue
		}
		why := fmt.Sprintf("cancelled: approved by %s but not started by %s", who(req), req.StartBy.UTC().Format("15:04:05Z"))
		errs = append(errs, p.lapse(ctx, req, why))
	}
	return errors.Join(errs...)
}

// RunExpiry calls ExpireGates every interval until ctx ends.
func (p *Pipeline) RunExpiry(ctx context.Context, every time.Duration) {
	p.tick(ctx, every, func() {
		if err := p.ExpireGates(ctx); err != nil {
			p.Logger.WarnContext(ctx, "gate expiry sweep", "err", err)
		}
	})
}

// onResolved cancels the incident's pending gates and its approved gates whose run has not
// started, and reports each: a resolved incident needs nothing more done to it.
func (p *Pipeline) onResolved(ctx context.Context, ev *incident.Event) error {
	if p.Gates == nil {
		return nil
	}
	const why = "cancelled: the incident was resolved"
	cancelled, err := p.Gates.Store.CancelIncident(ctx, ev.Incident.ID, "the incident was resolved")
	errs := []error{classifyOrNil(err)}
	for _, req := range cancelled {
		errs = append(errs, p.closeGate(ctx, req, why))
	}
	approved, err := p.Gates.Store.Unsettled(ctx, ev.Incident.ID)
	errs = append(errs, classifyOrNil(err))
	for _, req := range approved {
		errs = append(errs, p.lapse(ctx, req, why))
	}
	return joinClassified(slicesCompact(errs))
}

// lapse ends an approved gate whose run has not started: the run, if it is still parked at
// this gate, is closed and the incident told; a run that started meanwhile is left alone.
// Either way the approval is settled so no sweep looks at it again.
func (p *Pipeline) lapse(ctx context.Context, req *approval.Request, why string) error {
	h, err := p.Ledger.Load(ctx, req.Run)
	if err != nil {
		return classify(err)
	}
	rec := h.Record()
	lapsed := rec.State == ledger.StateParked && rec.Gate != nil && rec.Gate.Code == req.Code
	reason := ""
	if lapsed {
		reason = why
	}
	settled, err := p.Gates.Store.Settle(ctx, req.Incident, req.Code, reason)
	if errors.Is(err, approval.ErrNotPending) {
		return nil // another worker settled it
	}
	if err != nil {
		return classify(err)
	}
	if !lapsed {
		return nil
	}
	p.Metrics.decisions.WithLabelValues("lapsed").Inc()
	return p.endGate(ctx, settled, why, true)
}

// closeGate ends a run parked at req's gate (rejected, expired, cancelled) and says so on
// the incident. Only a run parked at this very gate changes; the note is written once per gate.
func (p *Pipeline) closeGate(ctx context.Context, req *approval.Request, why string) error {
	return p.endGate(ctx, req, why, false)
}

// endGate is closeGate; with onlyParked, a run that is no longer parked at the gate (it
// started meanwhile) is left alone and nothing is said. The incident is told before the
// ledger is written, so a failed write cannot silence the end of a gate; an ended gate stays
// Closing until both are done, and the next sweep does again what is missing.
func (p *Pipeline) endGate(ctx context.Context, req *approval.Request, why string, onlyParked bool) error {
	h, err := p.Ledger.Load(ctx, req.Run)
	if err != nil {
		return classify(err)
	}
	rec := h.Record()
	parked := rec.State == ledger.StateParked && (rec.Gate == nil || rec.Gate.Code == req.Code)
	if parked || !onlyParked {
		content := fmt.Sprintf("Alaya · %s: gate %s (code %s) %s. Nothing after the gate was executed.\nRun %s",
			req.Runbook, req.Gate, req.Code, why, req.Run)
		if err := p.note(ctx, req.Run+".closed."+req.Code, req.Incident, content); err != nil {
			return err
		}
		p.threadReply(ctx, req.Run, req.Incident, "closed."+req.Code, p.Redactor.String(content), nil)
		p.gateDecided(ctx, req, "⏹ "+why)
		if run, err := p.rebuild(h); err == nil && parked {
			state, _, _ := strings.Cut(why, ":")
			p.threadTop(ctx, run, "⏹ "+state)
		}
	}
	if parked {
		err := h.Update(ctx, func(r *ledger.Record) {
			r.State, r.Reason = ledger.StateRejected, why
			if req.State != approval.StateRejected {
				r.Approvals = append(r.Approvals, decisionRecord(req, nil))
			}
		})
		if err != nil {
			return classify(fmt.Errorf("close the run of gate %s (the next gate sweep tries again): %w", req.Code, err))
		}
	}
	if req.Closing {
		if err := p.Gates.Store.Closed(ctx, req.Incident, req.Code); err != nil {
			return classify(err)
		}
	}
	return nil
}

func decisionRecord(req *approval.Request, ev *incident.Event) evidence.Approval {
	via := "note"
	if ev != nil && ev.Source == incident.SourceApprovalPage {
		via = "page"
	}
	if ev != nil && ev.Source == incident.SourceSlack {
		via = "slack"
	}
	return evidence.Approval{Gate: req.Gate, Code: req.Code, PlanHash: req.PlanHash, Decision: string(req.State),
		By: who(req), Via: via, Reason: req.Reason, At: req.DecidedAt}
}

func classifyOrNil(err error) error {
	if err == nil {
		return nil
	}
	return classify(err)
}

func slicesCompact(errs []error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}
