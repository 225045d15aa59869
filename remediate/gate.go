package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/notetext"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/runbooks"
)

// IncidentReader fetches an incident as PagerDuty has it now: the approval policy needs its
// status, assignees and escalation policy, which incident.annotated webhooks do not carry.
type IncidentReader interface {
	Incident(ctx context.Context, id string) (*incident.Incident, error)
}

// NoteReader reads an incident's notes back from PagerDuty: a webhook only announces a note,
// the API says whether it exists and who wrote it.
type NoteReader interface {
	IncidentNotes(ctx context.Context, incidentID string) ([]incident.Note, error)
}

// Gates is what the pipeline needs to park runs at approval gates and resume them. Without
// it (nil in Deps) a run stops at its first gate and says approvals are not enabled.
type Gates struct {
	Store     *approval.Store
	Policy    *approval.Policy
	Incidents IncidentReader
	Notes     NoteReader
	// PageKey verifies decisions from the approval page (the receiver signs them with it);
	// nil: page decisions are refused.
	PageKey []byte
	// Own reports whether Alaya posted the note with this id (a record only Alaya writes);
	// nil: only the author check recognises Alaya's notes.
	Own func(ctx context.Context, noteID string) bool
	// PageURL links a gate to the approval page; nil leaves the link out of the note.
	PageURL func(incident, code string) string
}

// maxParkedEvent bounds the triggering event a parked run keeps in its ledger record (a KV
// value is at most 1 MiB, and every later write of the record carries it). A larger event
// ends the run with a note instead of failing to park on every delivery.
const maxParkedEvent = 256 << 10

// park stops the run at the gate at index: it records the gate in the ledger (before the
// request exists, so a redelivery re-uses the code), stores the pending approval, writes the
// diagnostics so far to the evidence, posts one note with the diagnostics and the plan, and
// marks the run parked. The message is then acknowledged: nobody holds it while a person
// decides.
func (p *Pipeline) park(ctx context.Context, run *Run, index int, step *runbooks.Step) error {
	if p.Gates == nil {
		run.fail(fmt.Sprintf("stopped at gate %q: approvals are not enabled on this worker", step.Name))
		return nil
	}
	if size := eventSize(run.Event); size > maxParkedEvent {
		run.fail(fmt.Sprintf("stopped at gate %q: the incident's event is %d KiB, more than the %d KiB a gate can keep; "+
			"nothing after the gate was executed (trim the alert's details)", step.Name, size>>10, maxParkedEvent>>10))
		return nil
	}
	now, err := p.Gates.Store.Now(ctx)
	if err != nil {
		return classify(err)
	}
	gs, err := p.gateState(ctx, run, index, step, now)
	if err != nil {
		return classify(err)
	}
	req := p.request(run, step, gs, now)
	if err := p.Gates.Store.Create(ctx, req); err != nil && !errors.Is(err, approval.ErrExists) {
		return classify(fmt.Errorf("park: %w", err))
	}
	run.Finished = time.Now()
	if err := p.record(ctx, run); err != nil {
		return err
	}
	req.EvidenceLinks = p.evidenceLinks(ctx, run)
	content := p.renderNote(ctx, run, p.planSection(run, req))
	if err := p.Outbox.Enqueue(ctx, run.ID+".gate."+gs.Code, run.Event.Incident.ID, content); err != nil {
		return classify(err)
	}
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) { r.State, r.NextStep, r.Noted = ledger.StateParked, index+1, true }); err != nil {
		return classify(err)
	}
	p.threadReply(ctx, run.ID, run.Event.Incident.ID, "gate."+gs.Code, p.slackGate(content, run.Event.Incident.ID, gs.Code),
		&outbox.Buttons{Incident: run.Event.Incident.ID, Code: gs.Code})
	p.threadTop(ctx, run, stateWaiting)
	p.Metrics.runs.WithLabelValues(run.Runbook.Name, "parked").Inc()
	p.Logger.InfoContext(ctx, "run parked at gate", "run", run.ID, "gate", step.Name)
	if err := p.Outbox.Deliver(ctx, run.ID+".gate."+gs.Code); err != nil {
		p.Logger.WarnContext(ctx, "gate note not posted yet; the outbox will retry", "run", run.ID, "err", err)
	}
	return errStop
}

// gateState returns the gate already recorded for this step, or records a new one with a
// fresh code, the plan hash and the expiry.
func (p *Pipeline) gateState(ctx context.Context, run *Run, index int, step *runbooks.Step, now time.Time) (*ledger.Gate, error) {
	if g := run.Ledger.Record().Gate; g != nil && g.Step == index {
		return g, nil
	}
	code, err := approval.NewCode()
	if err != nil {
		return nil, err
	}
	expiry := approval.DefaultExpiry
	if step.Gate != nil && step.Gate.Expires > 0 {
		expiry = step.Gate.Expires
	}
	gs := &ledger.Gate{Step: index, Name: step.Name, Code: code, PlanHash: run.Plan.Hash(), Expires: now.Add(expiry)}
	err = run.Ledger.Update(ctx, func(r *ledger.Record) { r.Gate, r.Trigger = gs, run.Event })
	return gs, err
}

func (p *Pipeline) request(run *Run, step *runbooks.Step, gs *ledger.Gate, now time.Time) *approval.Request {
	inc := &run.Event.Incident
	req := &approval.Request{
		Incident: inc.ID, IncidentTitle: p.Redactor.String(inc.Title), IncidentURL: inc.HTMLURL,
		Run: run.ID, Runbook: run.Runbook.Name, RunbookVersion: run.Runbook.Version,
		Gate: step.Name, PlanHash: gs.PlanHash, Code: gs.Code,
		EscalationPolicy: inc.EscalationPolicy.ID, Targets: run.Plan.Targets,
		Created: now, Expires: gs.Expires,
		Resume: approval.ResumePoint{Step: gs.Step + 1},
		// Redacted here, where it is made: the note, the stored request and the page show it.
		PlanText: p.Redactor.String(planText(run.Plan, gs.Step+1)),
	}
	for _, a := range inc.Assignees {
		req.Assignees = append(req.Assignees, a.Summary)
	}
	if step.Gate != nil {
		req.Approvers = approval.Approvers{Users: step.Gate.Approvers.Users, Teams: step.Gate.Approvers.Teams}
	}
	return req
}

func eventSize(ev *incident.Event) int {
	data, err := json.Marshal(ev)
	if err != nil {
		return 0
	}
	return len(data)
}

func (p *Pipeline) evidenceLinks(ctx context.Context, run *Run) []approval.Link {
	if l := p.link(ctx, run.ManifestKey); l != "" {
		return []approval.Link{{Title: "Diagnostics evidence (manifest)", URL: l}}
	}
	return nil
}

// planSection is the part of the gate note that asks for a decision: what will run, the
// runbook version and plan hash it binds to, how to approve, and until when.
func (p *Pipeline) planSection(run *Run, req *approval.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n⏸ Approval needed (gate %s): the plan below changes systems.\n", req.Gate)
	fmt.Fprintf(&b, "Runbook %s version %s · plan %s\n", run.Runbook.Name, run.Runbook.Version, short(req.PlanHash))
	b.WriteString(req.PlanText)
	b.WriteString("\n" + approval.Instructions(req.Code))
	fmt.Fprintf(&b, "Expires %s (%s).\n", req.Expires.UTC().Format("15:04:05Z"), req.Expires.Sub(req.Created).Round(time.Second))
	if p.Gates.PageURL != nil {
		fmt.Fprintf(&b, "Review: %s\n", p.Gates.PageURL(req.Incident, req.Code))
	}
	return b.String()
}

// planText renders the steps from index on, one line per step and host: what will be done
// where, with its command or parameters.
func planText(pl *runbooks.Plan, from int) string {
	var b strings.Builder
	for i := from; i < len(pl.Steps); i++ {
		s := &pl.Steps[i]
		if s.Kind == runbooks.KindGate {
			fmt.Fprintf(&b, "%d. %s: another approval gate\n", i+1, s.Name)
			continue
		}
		fmt.Fprintf(&b, "%d. %s (%s)\n", i+1, s.Name, s.Kind)
		for _, host := range pl.Targets {
			if line := stepLine(s, host); line != "" {
				b.WriteString(notetext.Sprintf("   %s: %s\n", host, clip(line)))
			}
		}
	}
	return b.String()
}

func stepLine(s *runbooks.Step, host string) string {
	switch {
	case s.Commands[host] != "":
		return "$ " + s.Commands[host]
	case len(s.Paths[host]) > 0:
		return "collect " + strings.Join(s.Paths[host], " ")
	case s.Action[host] != nil:
		return actionParams(s.Action[host])
	}
	return ""
}

// actionParams prints an action's parameters sorted, the way `alaya plan` does.
func actionParams(params map[string]string) string {
	keys := slices.Sorted(maps.Keys(params))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, params[k])
	}
	return strings.Join(parts, " ")
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
