package remediate

import (
	"context"
	"fmt"
	"strings"

	"github.com/alaya-sre/alaya/ledger"
)

// begin takes ownership of the run in the ledger, or finds it there. A run that already
// finished is a duplicate delivery and ends here, changing nothing.
func (p *Pipeline) begin(ctx context.Context, run *Run) error {
	h, fresh, err := p.Ledger.Begin(ctx, ledger.Record{
		ID: run.ID, Incident: run.Event.Incident.ID, Runbook: run.Runbook.Name,
		Version: run.Runbook.Version, Event: run.Event.ID,
	})
	if err != nil {
		return classify(err)
	}
	run.Ledger = h
	if fresh {
		p.Logger.InfoContext(ctx, "run started", "run", run.ID, "runbook", run.Runbook.Name, "incident", run.Event.Incident.ID)
		return nil
	}
	run.Resumed = true
	rec := h.Record()
	switch rec.State {
	case ledger.StateRunning:
		// Our own earlier attempt, or a dead worker's: adopt it.
		unknown, err := h.Adopt(ctx)
		if err != nil {
			return classify(err)
		}
		if len(unknown) > 0 {
			run.fail(fmt.Sprintf("state unknown: a worker stopped during %s, which changes a system; "+
				"Alaya will not run it again. Check the host before acting.", strings.Join(unknown, ", ")))
			return p.finishEarly(ctx, run)
		}
		p.Logger.InfoContext(ctx, "run adopted", "run", run.ID, "previous_owner", rec.Owner)
		return nil
	default:
		p.Logger.InfoContext(ctx, "duplicate delivery: run already exists", "run", run.ID, "state", rec.State)
		p.Metrics.runs.WithLabelValues(run.Runbook.Name, "duplicate").Inc()
		return errStop
	}
}
