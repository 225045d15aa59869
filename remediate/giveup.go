package remediate

import (
	"context"
	"errors"
	"fmt"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/runbooks"
)

// An event whose every delivery fails is terminated by the queue after its last one. Nothing
// comes back to it then, so a failure on the last delivery must not be left to a redelivery:
// the run ends here with its final note (what is known of its steps, and why it stopped), and
// an event that failed before any run says so on its incident.

// lastTry is an event's last delivery, passed down to the runs it handles.
type lastTry struct {
	deliveries uint64
	ended      bool // a run's final note was written
}

// HandleDelivery handles one delivery of an event: Handle, and on the last delivery (the
// queue sets Delivery.Final) a failure that will not be retried ends with a note, and a panic
// with one too.
func (p *Pipeline) HandleDelivery(ctx context.Context, d *queue.Delivery) (err error) {
	if !d.Final {
		return p.Handle(ctx, d.Event)
	}
	last := &lastTry{deliveries: d.NumDelivered}
	if p.safely(ctx, "handler", func() { err = p.handle(ctx, d.Event, last) }) {
		err = queue.Retry(errors.New("handler panicked"))
	}
	if err != nil && !last.ended && !queue.IsPermanent(err) && !elsewhere(err) {
		p.answerLast(ctx, d.Event, last, err)
	}
	return err
}

// elsewhere reports whether err means another live handler has the run: it reports the run.
func elsewhere(err error) bool {
	return errors.Is(err, ledger.ErrRunElsewhere) || errors.Is(err, ledger.ErrLost)
}

// giveUp ends a run that failed in stage on its event's last delivery: the steps not yet run
// are not run, a change that started and was not seen to end is unknown (its host held), and
// the run is recorded and reported. Before the last delivery it does nothing.
func (p *Pipeline) giveUp(ctx context.Context, run *Run, stage string, err error) {
	if run.last == nil || run.Ledger == nil || elsewhere(err) || queue.IsPermanent(err) {
		return
	}
	p.Metrics.gaveUp.WithLabelValues("run").Inc()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	run.fail(fmt.Sprintf("gave up after %d deliveries (stage %s): %s; the steps not yet run were not executed",
		run.last.deliveries, stage, oneLine(p.Redactor.String(err.Error()))))
	if run.Plan != nil {
		p.seed(ctx, run)
		p.notRun(ctx, run)
	}
	p.safely(ctx, "give up", func() {
		_ = p.record(ctx, run)
		if aerr := p.annotate(ctx, run); aerr != nil {
			p.Logger.ErrorContext(ctx, "final note of a run given up not recorded; posting what the outbox has", "run", run.ID, "err", aerr)
			_ = p.Outbox.Deliver(ctx, run.ID)
		}
	})
	run.last.ended = true
}

// notRun gives every step after the gate that has no result one that says so: a change the
// ledger saw start is unknown (its host held), anything else was not run.
func (p *Pipeline) notRun(ctx context.Context, run *Run) {
	rec := run.Ledger.Record()
	for i := run.From; i < len(run.Plan.Steps); i++ {
		step := &run.Plan.Steps[i]
		if step.Kind == runbooks.KindGate {
			continue
		}
		for _, host := range run.Plan.Targets {
			if run.result(host, step.Name) != nil {
				continue
			}
			key := ledger.StepKey(i, host)
			res := &HostResult{Step: step.Name, Index: i, Host: host, Skipped: "not run: Alaya gave up on this run", Blocked: true}
			if st, ok := rec.Steps[key]; ok && st.Status == ledger.StepStarted && step.Mutating {
				res.Skipped, res.Blocked, res.Unknown = "", false, true
				res.Err = "outcome unknown: it was under way when Alaya gave up on this run; check the host"
				p.hold(ctx, run, host, key)
			}
			run.setResult(res)
		}
	}
}

// answerLast says on the incident that an event was given up before any run could end with a
// note: a decision that was not processed must be posted again.
func (p *Pipeline) answerLast(ctx context.Context, ev *incident.Event, last *lastTry, err error) {
	p.Metrics.gaveUp.WithLabelValues("event").Inc()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	what, again := "the "+ev.Type+" event", ""
	if ev.Note != nil {
		if cmd, ok := approval.ParseCommand(ev.Note.Content); ok {
			what, again = fmt.Sprintf("%s %s", cmd.Verb, cmd.Code), " If the gate still waits, post the decision again."
		}
	}
	content := fmt.Sprintf("Alaya · %s was not processed: gave up after %d deliveries: %s. Nothing was executed for it.%s",
		what, last.deliveries, oneLine(p.Redactor.String(err.Error())), again)
	if nerr := p.note(ctx, "gaveup."+digest(ev.ID), ev.Incident.ID, content); nerr != nil {
		p.Logger.ErrorContext(ctx, "event given up without a note", "event", ev.ID, "err", err, "note_err", nerr)
	}
}
