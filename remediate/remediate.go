// Package remediate is the worker's run pipeline: an incident event goes through
// enrich → match → (per matched runbook) begin → plan → execute → record → annotate.
// The stages are assembled in one function (onTriggered and runStages) so the whole path can be
// read top to bottom; run state travels in an explicit Run struct, never in a context.
//
// Failures are classified where they happen (see retryable/permanent in errors.go) and turned
// into JetStream behaviour in one place, the queue's consumer.
package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/alaya-sre/alaya/actions/balancers"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/runbooks"
)

// Incidents is what the pipeline needs from PagerDuty.
type Incidents interface {
	Alerts(ctx context.Context, incidentID string) ([]incident.Alert, error)
}

// Outbox holds notes until they are delivered (package outbox). Enqueue is durable; Deliver
// tries once now and leaves what fails to the outbox's own sweeper.
type Outbox interface {
	Enqueue(ctx context.Context, id, incidentID, content string) error
	Deliver(ctx context.Context, id string) error
}

// Ledger is what the pipeline needs from the run ledger (ledger.Ledger): the record of each
// run, owned by one handler at a time.
type Ledger interface {
	Begin(ctx context.Context, rec ledger.Record) (h *ledger.Handle, fresh bool, err error)
	Load(ctx context.Context, id string) (*ledger.Handle, error)
	Takeover(ctx context.Context, id string) (*ledger.Handle, error)
}

// Runner runs commands on inventory hosts.
type Runner interface {
	Run(ctx context.Context, h *inventory.Host, cmd string, opt executor.RunOptions) (*executor.Result, error)
	Stream(ctx context.Context, h *inventory.Host, cmd string) (io.ReadCloser, func() (*executor.Result, error), error)
}

// Catalog gives the runbooks in force. A func so runbooks can be reloaded without a restart.
type Catalog func() *runbooks.Catalog

// Deps are everything a Pipeline uses; New checks none are missing.
type Deps struct {
	Logger    *slog.Logger
	Metrics   *Metrics
	Catalog   Catalog
	Inventory *inventory.Inventory
	Incidents Incidents
	Runner    Runner
	Store     evidence.Store
	Ledger    Ledger
	Outbox    Outbox
	Redactor  *evidence.Redactor
	// Gates parks runs at approval gates and resumes them; nil: runs stop at a gate.
	Gates *Gates
	// Balancers reaches load balancers for lb_detach and lb_attach; Hosts defaults to the
	// inventory.
	Balancers balancers.Deps
	// Safety enforces cooldowns, host leases, the action cap, storm mode and fleet switches;
	// nil: none of those.
	Safety  *Safety
	Options Options
}

// Options tune the pipeline.
type Options struct {
	LinkTTL   time.Duration // lifetime of evidence links in notes
	Heartbeat time.Duration // how often a running run proves its owner alive
	// Switches are the configured floor of the safety switches; Safety's fleet-wide switches,
	// read before every step, can only turn more on.
	Switches Switches
}

// Pipeline handles incident events.
type Pipeline struct{ Deps }

// New returns a pipeline.
func New(d Deps) (*Pipeline, error) {
	if d.Logger == nil || d.Catalog == nil || d.Inventory == nil || d.Incidents == nil || d.Runner == nil ||
		d.Store == nil || d.Ledger == nil || d.Outbox == nil || d.Redactor == nil || d.Metrics == nil {
		return nil, errors.New("remediate: missing dependency")
	}
	// Every text and JSON object the pipeline stores is redacted, whichever stage writes it.
	d.Store = d.Redactor.Store(d.Store)
	if d.Options.LinkTTL == 0 {
		d.Options.LinkTTL = 7 * 24 * time.Hour
	}
	if d.Balancers.Hosts == nil {
		d.Balancers.Hosts = d.Inventory
	}
	if d.Options.Heartbeat == 0 {
		d.Options.Heartbeat = 5 * time.Second
	}
	return &Pipeline{Deps: d}, nil
}

// Handle processes one event. The returned error is classified (Retryable) for the consumer.
func (p *Pipeline) Handle(ctx context.Context, ev *incident.Event) error {
	switch ev.Type {
	case incident.TypeTriggered:
		return p.onTriggered(ctx, ev)
	case incident.TypeAnnotated:
		return p.onAnnotated(ctx, ev)
	case incident.TypeResolved:
		return p.onResolved(ctx, ev)
	default:
		p.Logger.DebugContext(ctx, "event ignored", "event", ev.ID, "type", ev.Type)
		return nil
	}
}

// onTriggered is the diagnostics path: every matched runbook becomes one run.
func (p *Pipeline) onTriggered(ctx context.Context, ev *incident.Event) error {
	if err := p.enrich(ctx, ev); err != nil {
		return err
	}
	decisions := p.Catalog().Match(ev)
	if len(decisions) == 0 {
		p.Logger.InfoContext(ctx, "no runbook matched", "incident", ev.Incident.ID, "event", ev.ID)
		p.Metrics.runs.WithLabelValues("", "no_match").Inc()
		return nil
	}
	storm := p.storm(ctx, ev.Incident.ID)
	var errs []error
	for _, d := range decisions {
		run := newRun(ev, d)
		run.Storm = storm
		if err := p.runStages(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("runbook %s: %w", d.Runbook.Name, err))
		}
	}
	return joinClassified(errs)
}

// runStages takes one run from its ledger record to its note.
func (p *Pipeline) runStages(ctx context.Context, run *Run) error {
	stages := []struct {
		name string
		fn   func(context.Context, *Run) error
	}{
		{"begin", p.begin},
		{"plan", p.plan},
		{"execute", p.execute},
		{"record", p.record},
		{"annotate", p.annotate},
	}
	for _, s := range stages {
		start := time.Now()
		err := s.fn(ctx, run)
		p.Metrics.stage.WithLabelValues(s.name).Observe(time.Since(start).Seconds())
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			p.Logger.ErrorContext(ctx, "run stage failed", "stage", s.name, "run", run.ID, "runbook", run.Runbook.Name, "err", err)
			return err
		}
	}
	p.Metrics.runs.WithLabelValues(run.Runbook.Name, run.outcome()).Inc()
	return nil
}

// enrich fetches the incident's alerts: PagerDuty's V3 webhooks do not carry them, and alert
// details are where host names live.
func (p *Pipeline) enrich(ctx context.Context, ev *incident.Event) error {
	if len(ev.Incident.Alerts) > 0 {
		return nil
	}
	alerts, err := p.Incidents.Alerts(ctx, ev.Incident.ID)
	if err != nil {
		return classify(fmt.Errorf("enrich: alerts of %s: %w", ev.Incident.ID, err))
	}
	ev.Incident.Alerts = alerts
	return nil
}

// plan resolves targets and renders every command. It touches nothing.
func (p *Pipeline) plan(ctx context.Context, run *Run) error {
	pl, err := run.Runbook.Plan(run.Event, p.Inventory)
	if err != nil {
		run.fail("planning failed: " + err.Error())
		return p.finishEarly(ctx, run)
	}
	run.Plan = pl
	if len(pl.Targets) == 0 {
		run.fail("no target resolved to an inventory host")
		return p.finishEarly(ctx, run)
	}
	return nil
}

// finishEarly records and annotates a run that cannot execute, so the responder still hears
// why, and stops the stage list.
func (p *Pipeline) finishEarly(ctx context.Context, run *Run) error {
	if err := p.record(ctx, run); err != nil {
		return err
	}
	if err := p.annotate(ctx, run); err != nil {
		return err
	}
	p.Metrics.runs.WithLabelValues(run.Runbook.Name, run.outcome()).Inc()
	return errStop
}
