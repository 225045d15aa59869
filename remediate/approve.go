package remediate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/notetext"
)

// The approval flow: one note (from PagerDuty, or a decision from the approval page) goes
// through these states, in this order, and nowhere else:
//
//	parse → verify → find the gate → authorize → bind → decide → start
//
//   - parse: a note that is not exactly one command, or that Alaya wrote (its id is recorded
//     when posted, or its author is Alaya's user), ends here silently;
//   - verify: a webhook only announces a note. PagerDuty's API must have a note with that id
//     on the incident, by the webhook's agent, and its content (not the webhook's, which may
//     be trimmed) is the command. A page decision must carry the receiver's signature;
//   - find the gate named by the code on this incident, and the run it parks (read once);
//   - authorize the author against the incident as PagerDuty has it now, before anything about
//     the gate's state is said (someone who may not decide learns nothing);
//   - bind: the approval is for the gate the run waits at now, and for no other;
//   - decide with compare-and-swap; a decision taken earlier is resumed or answered;
//   - start: the run continues, if the approval is still within its start deadline.
//
// Every outcome but silence is written on the incident.

// note is one decision attempt as it goes through the flow.
type note struct {
	ev     *incident.Event
	cmd    approval.Command
	author incident.Ref
	inc    *incident.Incident // as PagerDuty has it now
	req    *approval.Request
	h      *ledger.Handle // the run's ledger, read once
	now    time.Time
	last   *lastTry // set on the event's last delivery
	// answerTo is where a Slack press is answered: its response URL, set only once the
	// receiver's signature over it was verified.
	answerTo string
}

// onAnnotated runs the approval flow for one note.
func (p *Pipeline) onAnnotated(ctx context.Context, ev *incident.Event, last *lastTry) error {
	if p.Gates == nil || ev.Note == nil {
		return nil
	}
	n, ok := p.parse(ctx, ev)
	if !ok {
		return nil
	}
	n.last = last
	for _, step := range []func(context.Context, *note) error{p.verify, p.findGate, p.authorize, p.bind} {
		if err := step(ctx, n); err != nil {
			return p.answer(ctx, n, err)
		}
	}
	return p.answer(ctx, n, p.decide(ctx, n))
}

// parse keeps only notes that carry one command and are not Alaya's own. A note PagerDuty
// trimmed in the webhook is read in full in verify before it is parsed.
func (p *Pipeline) parse(ctx context.Context, ev *incident.Event) (*note, bool) {
	if p.own(ctx, ev.Note.ID) || p.Gates.Policy.IsSelf(ctx, ev.Note.Author) || p.Gates.Policy.IsSelf(ctx, ev.Agent) {
		return nil, false
	}
	cmd, ok := approval.ParseCommand(ev.Note.Content)
	if !ok && !ev.Note.Trimmed {
		return nil, false
	}
	return &note{ev: ev, cmd: cmd, author: ev.Note.Author}, true
}

// own reports whether Alaya posted the note (see Gates.Own).
func (p *Pipeline) own(ctx context.Context, noteID string) bool {
	return p.Gates.Own != nil && noteID != "" && p.Gates.Own(ctx, noteID)
}

// errSilent ends the flow without a note: the verified note is not a command after all.
var errSilent = errors.New("not a command")

// verify believes a note only as far as its source can be checked.
func (p *Pipeline) verify(ctx context.Context, n *note) error {
	switch n.ev.Source {
	case incident.SourceApprovalPage:
		if !approval.VerifyNote(p.Gates.PageKey, n.ev) {
			return refusal(approval.ErrNotAllowed, "the decision does not carry the approval page's signature")
		}
		return nil
	case incident.SourceSlack:
		return p.verifySlack(ctx, n)
	case incident.SourcePagerDuty, "":
		return p.readBack(ctx, n)
	}
	return refusal(approval.ErrNotAllowed, "decisions are taken only from PagerDuty notes and the approval page, not from %s", n.ev.Source)
}

// readBack finds the webhook's note among the incident's notes in PagerDuty and takes the
// author and the content from there.
func (p *Pipeline) readBack(ctx context.Context, n *note) error {
	if p.Gates.Notes == nil {
		return refusal(approval.ErrNotAllowed, "this worker cannot read notes back from PagerDuty")
	}
	notes, err := p.Gates.Notes.IncidentNotes(ctx, n.ev.Incident.ID)
	if err != nil {
		return classify(fmt.Errorf("approval: read back notes of %s: %w", n.ev.Incident.ID, err))
	}
	i := slices.IndexFunc(notes, func(x incident.Note) bool { return x.ID != "" && x.ID == n.ev.Note.ID })
	if i < 0 {
		return refusal(approval.ErrNotAllowed, "PagerDuty has no such note (id %s) on this incident; a signed webhook alone is not an approval", orDash(n.ev.Note.ID))
	}
	got := notes[i]
	if got.Author.ID != n.ev.Agent.ID || got.Author.ID != n.ev.Note.Author.ID {
		return refusal(approval.ErrNotAllowed, "the note was written by %s, not by %s as the webhook says", approval.Name(got.Author), approval.Name(n.ev.Agent))
	}
	if p.own(ctx, got.ID) || p.Gates.Policy.IsSelf(ctx, got.Author) {
		return errSilent
	}
	cmd, ok := approval.ParseCommand(got.Content)
	if !ok {
		return errSilent
	}
	n.cmd, n.author = cmd, got.Author
	return nil
}

// findGate reads the gate named by the code, the run it parks and the incident now.
func (p *Pipeline) findGate(ctx context.Context, n *note) error {
	g := p.Gates
	req, _, err := g.Store.Get(ctx, n.ev.Incident.ID, n.cmd.Code)
	if errors.Is(err, approval.ErrNotFound) {
		return refusal(approval.ErrNotFound, "there is no approval with code %s on this incident", n.cmd.Code)
	}
	if err != nil {
		return classify(err)
	}
	if n.h, err = p.Ledger.Load(ctx, req.Run); err != nil {
		return classify(err)
	}
	if n.inc, err = p.incidentNow(ctx, n); err != nil {
		return err
	}
	if n.now, err = g.Store.Now(ctx); err != nil {
		return classify(err)
	}
	n.req = req
	return nil
}

// incidentNow is the incident as PagerDuty has it now; one PagerDuty does not have is as its
// trigger described it (its resolution cancels its gates, see onResolved).
func (p *Pipeline) incidentNow(ctx context.Context, n *note) (*incident.Incident, error) {
	if !p.inPagerDuty(n.ev.Incident.ID) {
		if trig := n.h.Record().Trigger; trig != nil {
			inc := trig.Incident
			return &inc, nil
		}
		return &incident.Incident{ID: n.ev.Incident.ID}, nil
	}
	if p.Gates.Incidents == nil {
		return nil, refusal(approval.ErrNotAllowed, "this worker cannot read incidents from PagerDuty")
	}
	inc, err := p.Gates.Incidents.Incident(ctx, n.ev.Incident.ID)
	if err != nil {
		return nil, classify(fmt.Errorf("approval: incident %s: %w", n.ev.Incident.ID, err))
	}
	return inc, nil
}

// authorize asks the policy whether the author may decide this gate at all.
func (p *Pipeline) authorize(ctx context.Context, n *note) error {
	if n.ev.Source == incident.SourceSlack && !p.inPagerDuty(n.ev.Incident.ID) {
		return p.authorizeSlack(ctx, n)
	}
	if err := p.Gates.Policy.Authorize(ctx, n.req, n.author, n.inc); err != nil {
		return classifyRefusal(err)
	}
	return nil
}

// bind refuses a code that is not the one of the gate the run waits at now: a first gate's
// code, redelivered or re-posted, never passes a second gate.
func (p *Pipeline) bind(_ context.Context, n *note) error {
	rec := n.h.Record()
	if rec.Gate == nil || rec.Gate.Code == n.req.Code {
		return nil
	}
	if rec.State == ledger.StateParked && n.req.State == approval.StateApproved {
		return refusal(approval.ErrNotPending, "code %s was for gate %s, which was approved and passed; the run now waits at gate %s, which needs its own approval",
			n.req.Code, n.req.Gate, rec.Gate.Name)
	}
	return refusal(approval.ErrNotPending, "code %s is for gate %s, which is no longer the gate this run waits at", n.req.Code, n.req.Gate)
}

// decide records the decision, or, when one was recorded before, acts on it as it stands.
func (p *Pipeline) decide(ctx context.Context, n *note) error {
	if n.req.State == approval.StateApproved {
		return p.approvedBefore(ctx, n)
	}
	run, err := p.rebuild(n.h)
	hash := ""
	if err == nil {
		hash = run.Plan.Hash()
	} else {
		p.Logger.WarnContext(ctx, "plan cannot be rebuilt", "run", n.req.Run, "err", err)
	}
	if err := approval.CheckGate(n.req, n.inc, hash, n.now); err != nil {
		return classifyRefusal(err)
	}
	req, err := p.Gates.Store.Decide(ctx, n.inc.ID, n.req.Code, approval.Decision{
		State: decisionState(n.cmd.Verb), By: n.author.ID, ByName: approval.Name(n.author),
		Reason: n.cmd.Reason, PlanHash: hash, At: n.now, Note: cmp.Or(n.ev.Note.ID, n.ev.ID),
	})
	if err != nil {
		return classifyRefusal(err)
	}
	n.req = req
	p.Metrics.decisions.WithLabelValues(string(req.State)).Inc()
	if err := n.h.Update(ctx, func(r *ledger.Record) { r.Approvals = append(r.Approvals, decisionRecord(req, n.ev)) }); err != nil {
		return classify(err)
	}
	if req.State == approval.StateRejected {
		return p.closeGate(ctx, req, fmt.Sprintf("rejected by %s%s", who(req), reasonSuffix(req.Reason)))
	}
	run.Approval = req
	return p.start(ctx, n, run)
}

// approvedBefore answers a note for a gate approved earlier: the run may still be parked (a
// worker stopped between the decision and the start), executing, or finished.
func (p *Pipeline) approvedBefore(ctx context.Context, n *note) error {
	rec := n.h.Record()
	switch {
	case rec.State == ledger.StateParked && !n.req.Settled:
		run, err := p.rebuild(n.h)
		if err != nil {
			return p.closeGate(ctx, n.req, "not executed: "+err.Error())
		}
		run.Approval = n.req
		return p.start(ctx, n, run)
	case rec.State == ledger.StateRunning:
		return p.executing(ctx, n)
	}
	return p.replayNote(ctx, n.req, n.ev, rec)
}

// decisionState maps a verb to the state it asks for.
func decisionState(verb string) approval.State {
	if verb == approval.VerbReject {
		return approval.StateRejected
	}
	return approval.StateApproved
}

// answer turns the flow's outcome into the note on the incident (refusals) or the consumer's
// verdict (failures to retry).
func (p *Pipeline) answer(ctx context.Context, n *note, err error) error {
	var ref *approval.Refusal
	switch {
	case err == nil || errors.Is(err, errSilent) || errors.Is(err, approval.ErrSelf):
		return nil
	case errors.As(err, &ref):
		p.Metrics.decisions.WithLabelValues(approval.Reason(err)).Inc()
		if n.ev.Source == incident.SourceSlack {
			return p.respondSlack(ctx, n, refusalDetail(err))
		}
		return p.refuseNote(ctx, n, err)
	}
	return err
}

// refusal is a refusal the flow itself decides (no request involved).
func refusal(sentinel error, format string, args ...any) error {
	return &approval.Refusal{Err: sentinel, Detail: fmt.Sprintf(format, args...)}
}

// classifyRefusal passes refusals through and classifies anything else for the consumer.
func classifyRefusal(err error) error {
	var ref *approval.Refusal
	if errors.As(err, &ref) {
		return err
	}
	return classify(fmt.Errorf("approval: %w", err))
}

// refuseNote writes a refusal and its reason on the incident. The note's outbox id derives
// from the event, so a redelivered event does not write it twice.
func (p *Pipeline) refuseNote(ctx context.Context, n *note, err error) error {
	detail := refusalDetail(err)
	verb, code := n.cmd.Verb, n.cmd.Code
	if verb == "" {
		verb, code = "decision", "(unread)"
	}
	content := notetext.Sprintf("Alaya · %s %s by %s not accepted: %s. Nothing was executed.", verb, code, approval.Name(n.author), oneLine(detail))
	p.Logger.InfoContext(ctx, "approval refused", "incident", n.ev.Incident.ID, "reason", approval.Reason(err))
	return p.note(ctx, "refusal."+digest(n.ev.ID), n.ev.Incident.ID, content)
}

// refusalDetail is what a refusal says to the person refused.
func refusalDetail(err error) string {
	var ref *approval.Refusal
	if errors.As(err, &ref) && ref.Detail != "" {
		return ref.Detail
	}
	return err.Error()
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// who names the decider in a note; the name is PagerDuty's, set by whoever owns the account,
// so it is escaped like every other value from outside.
func who(req *approval.Request) string {
	if req.DecidedByName != "" {
		return notetext.Inline(req.DecidedByName)
	}
	return notetext.Inline(req.DecidedBy)
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
