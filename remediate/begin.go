package remediate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
)

// begin takes ownership of the run in the ledger, or finds it there. A run that already
// finished is a duplicate delivery and ends here, changing nothing; a running one whose
// handler died or let go is adopted.
func (p *Pipeline) begin(ctx context.Context, run *Run) error {
	h, fresh, err := p.Ledger.Begin(ctx, ledger.Record{
		ID: run.ID, Incident: run.Event.Incident.ID, Runbook: run.Runbook.Name,
		Version: run.Runbook.Version, Event: run.Event.ID,
	})
	if err != nil {
		return p.ledgerErr(ctx, run.ID, err)
	}
	run.Ledger = h
	if fresh {
		// Only a run that starts counts towards a storm: a replay finds its run below.
		run.Storm = p.storm(ctx, run.Event.Incident.ID)
		p.Logger.InfoContext(ctx, "run started", "run", run.ID, "runbook", run.Runbook.Name, "incident", run.Event.Incident.ID)
		p.threadTop(ctx, run, stateDiagnosing)
		return nil
	}
	if rec := h.Record(); rec.State != ledger.StateRunning {
		p.Logger.InfoContext(ctx, "duplicate delivery: run already exists", "run", run.ID, "state", rec.State)
		p.Metrics.runs.WithLabelValues(run.Runbook.Name, "duplicate").Inc()
		return errStop
	}
	// The run goes on executing from its trigger: storm mode applies to it as to a new one
	// (counted once per incident and window, so a takeover in the same window adds nothing).
	run.Storm = p.storm(ctx, run.Event.Incident.ID)
	return p.adopt(ctx, run, h)
}

// adopt takes over a run left by a handler that died or let go, for both ways a run is found
// so (a redelivered trigger, a redelivered approval): the record is claimed, a step that
// changes a system and was under way becomes unknown, and execute seeds everything recorded
// (holding the hosts of unknown steps), so each host resumes from its own earliest unfinished
// step.
func (p *Pipeline) adopt(ctx context.Context, run *Run, h *ledger.Handle) error {
	previous := h.Record().Owner
	unknown, err := h.Adopt(ctx)
	if err != nil {
		return p.ledgerErr(ctx, run.ID, err)
	}
	run.Ledger, run.Resumed = h, true
	p.Logger.InfoContext(ctx, "run adopted", "run", run.ID, "previous_owner", previous, "unknown_steps", unknown)
	return nil
}

// ledgerErr classifies a ledger failure. A run a live handler is executing is waited for: an
// expected state, logged at info, retried when the owner would count as dead.
func (p *Pipeline) ledgerErr(ctx context.Context, runID string, err error) error {
	var busy *ledger.Busy
	if errors.As(err, &busy) {
		p.Logger.InfoContext(ctx, "run is executing elsewhere; waiting", "run", runID, "owner", busy.Owner, "retry_in", busy.Wait)
		return queue.RetryAfter(err, busy.Wait+time.Second)
	}
	return classify(fmt.Errorf("ledger: %w", err))
}
