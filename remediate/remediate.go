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
	"sync"
	"time"

	"github.com/alaya-sre/alaya/actions/balancers"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
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
	// EnqueueTo is Enqueue for another destination than the incident (a Slack thread).
	EnqueueTo(ctx context.Context, id string, to outbox.Dest, incidentID, content string) error
	Deliver(ctx context.Context, id string) error
}

// Ledger is what the pipeline needs from the run ledger (ledger.Ledger): the record of each
// run, owned by one handler at a time.
type Ledger interface {
	Begin(ctx context.Context, rec ledger.Record) (h *ledger.Handle, fresh bool, err error)
	Load(ctx context.Context, id string) (*ledger.Handle, error)
	Takeover(ctx context.Context, id string) (*ledger.Handle, error)
	// Silent returns the running records nobody has written for quiet, and the abandoned
	// ones not yet reported (SweepAbandoned).
	Silent(ctx context.Context, quiet time.Duration) ([]*ledger.Handle, error)
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
	Safety *Safety
	// Chat posts the run's Slack thread; nil: no Slack.
	Chat *Chat
	// Redelivery is the longest an event can still be delivered again after its handler's
	// last sign of life (queue.Queue.RedeliveryHorizon, from the live consumer); nil: no
	// sweep for abandoned runs.
	Redelivery func(context.Context) (time.Duration, error)
	Options    Options
}

// Options tune the pipeline.
type Options struct {
	LinkTTL   time.Duration // lifetime of evidence links in notes
	Heartbeat time.Duration // how often a running run proves its owner alive
	// HandlerTimeout bounds the handling of one event (1 h): a run still going then is
	// stopped, and reported so.
	HandlerTimeout time.Duration
	// LeaseWait is how long a change waits for a host another run is changing (2 min).
	LeaseWait time.Duration
	// LeaseRenew is how often a held host lease is renewed (30 s; the leases bucket's TTL is
	// minutes).
	LeaseRenew time.Duration
	// Switches are the configured floor of the safety switches; Safety's fleet-wide switches,
	// read before every step, can only turn more on.
	Switches Switches
}

// Pipeline handles incident events.
type Pipeline struct {
	Deps
	drain     chan struct{} // closed when the worker stops: no new step that changes a system
	drainOnce sync.Once
}

// Drain tells the pipeline the worker is stopping: running steps may finish, but no step that
// changes a system starts any more; the runs are left, let go, to the next worker.
func (p *Pipeline) Drain() { p.drainOnce.Do(func() { close(p.drain) }) }

func (p *Pipeline) stopping() bool {
	select {
	case <-p.drain:
		return true
	default:
		return false
	}
}

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
	if d.Options.HandlerTimeout == 0 {
		d.Options.HandlerTimeout = time.Hour
	}
	if d.Options.LeaseWait == 0 {
		d.Options.LeaseWait = 2 * time.Minute
	}
	if d.Options.LeaseRenew == 0 {
		d.Options.LeaseRenew = 30 * time.Second
	}
	return &Pipeline{Deps: d, drain: make(chan struct{})}, nil
}

// errHandlerDeadline is the cause of a handler context cut at Options.HandlerTimeout.
var errHandlerDeadline = errors.New("handler deadline reached")

// Handle processes one event, within the handler deadline. The returned error is classified
// (Retryable) for the consumer.
func (p *Pipeline) Handle(ctx context.Context, ev *incident.Event) error {
	return p.handle(ctx, ev, nil)
}

// handle is Handle; last is set on the event's last delivery (see HandleDelivery).
func (p *Pipeline) handle(ctx context.Context, ev *incident.Event, last *lastTry) error {
	ctx, cancel := context.WithTimeoutCause(ctx, p.Options.HandlerTimeout, errHandlerDeadline)
	defer cancel()
	switch ev.Type {
	case incident.TypeTriggered:
		return p.onTriggered(ctx, ev, last)
	case incident.TypeAnnotated:
		return p.onAnnotated(ctx, ev, last)
	case incident.TypeResolved:
		return p.onResolved(ctx, ev)
	default:
		p.Logger.DebugContext(ctx, "event ignored", "event", ev.ID, "type", ev.Type)
		return nil
	}
}

// onTriggered is the diagnostics path: every matched runbook becomes one run.
func (p *Pipeline) onTriggered(ctx context.Context, ev *incident.Event, last *lastTry) error {
	if resolved, err := p.resolvedSince(ctx, ev); err != nil || resolved {
		return err
	}
	if err := p.enrich(ctx, ev); err != nil {
		return err
	}
	decisions := p.Catalog().Match(ev)
	if len(decisions) == 0 {
		p.Logger.InfoContext(ctx, "no runbook matched", "incident", ev.Incident.ID, "event", ev.ID)
		p.Metrics.runs.WithLabelValues("", "no_match").Inc()
		return nil
	}
	var errs []error
	for _, d := range decisions {
		run := newRun(ev, d)
		run.last = last
		if err := p.runStages(ctx, run, "begin"); err != nil {
			errs = append(errs, fmt.Errorf("runbook %s: %w", d.Runbook.Name, err))
		}
	}
	return joinClassified(errs)
}

// stage is one step of the pipeline for one run.
type stage struct {
	name string
	fn   func(context.Context, *Run) error
}

// stages is the pipeline of a run, the one list every path goes through: a new run from
// "begin", a run resumed by an approval from "announce". A run that cannot execute (planning
// failed, a gate's plan changed) keeps going to record and annotate, so it is reported too.
func (p *Pipeline) stages() []stage {
	return []stage{
		{"begin", p.begin},
		{"plan", p.plan},
		{"announce", p.announce},
		{"execute", p.execute},
		{"record", p.record},
		{"annotate", p.annotate},
	}
}

// runStages takes run through the stages from the one named from to its note, timing each.
// errStop ends the list early (a duplicate, a parked run). A panic in a stage becomes the
// run's failure, logged with its stack, and the run is still recorded and reported. A run
// left unfinished (an error to retry) is let go in the ledger, so its next delivery adopts it
// at once.
func (p *Pipeline) runStages(ctx context.Context, run *Run, from string) error {
	list := p.stages()
	for list[0].name != from {
		list = list[1:]
	}
	for _, s := range list {
		start := time.Now()
		err := p.runStage(ctx, run, s)
		p.Metrics.stage.WithLabelValues(s.name).Observe(time.Since(start).Seconds())
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			p.giveUp(ctx, run, s.name, err) // only on the event's last delivery
			p.letGo(ctx, run, s.name, err)
			return err
		}
	}
	p.Metrics.runs.WithLabelValues(run.Runbook.Name, run.outcome()).Inc()
	return nil
}

// runStage runs one stage; a panic before the run is recorded becomes its failure.
func (p *Pipeline) runStage(ctx context.Context, run *Run, s stage) (err error) {
	finishing := s.name == "record" || s.name == "annotate"
	if finishing && ctx.Err() != nil {
		// The handler deadline cut the run: it is still recorded and reported, briefly.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
	}
	if p.safely(ctx, "stage "+s.name, func() { err = s.fn(ctx, run) }) {
		if finishing || run.Ledger == nil {
			return queue.Retry(fmt.Errorf("stage %s panicked", s.name))
		}
		run.fail(fmt.Sprintf("internal error in stage %s; the steps not yet run were not executed", s.name))
		return nil
	}
	return err
}

// finishTimeout bounds recording and reporting a run whose handler deadline has passed.
const finishTimeout = time.Minute

// letGo logs why a run stopped unfinished and releases its record for the next delivery.
func (p *Pipeline) letGo(ctx context.Context, run *Run, stage string, err error) {
	if errors.Is(err, errStopping) {
		p.Logger.InfoContext(ctx, "run left to the next worker", "stage", stage, "run", run.ID)
	} else if !errors.Is(err, ledger.ErrRunElsewhere) {
		p.Logger.ErrorContext(ctx, "run stage failed", "stage", stage, "run", run.ID, "runbook", run.Runbook.Name, "err", err)
	}
	if run.Ledger == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWrite)
	defer cancel()
	if rerr := run.Ledger.Release(rctx); rerr != nil {
		p.Logger.WarnContext(ctx, "run not let go; the next handler waits for it to go stale", "run", run.ID, "err", rerr)
	}
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

// resolvedSince reports whether PagerDuty says the incident of a triggered event is resolved
// now: a late or replayed trigger must not start diagnostics on an incident that is over. It
// asks PagerDuty itself (the event's own status is as old as the event), through the client
// that enriches alerts; without one (no token) or for other sources it cannot tell.
func (p *Pipeline) resolvedSince(ctx context.Context, ev *incident.Event) (bool, error) {
	reader, ok := p.Incidents.(IncidentReader)
	if !ok || ev.Source != pagerduty.Source {
		return false, nil
	}
	inc, err := reader.Incident(ctx, ev.Incident.ID)
	if err != nil {
		return false, classify(fmt.Errorf("incident %s: %w", ev.Incident.ID, err))
	}
	if inc.Status != incident.StatusResolved {
		return false, nil
	}
	p.Logger.InfoContext(ctx, "trigger for a resolved incident ignored", "incident", ev.Incident.ID, "event", ev.ID)
	p.Metrics.runs.WithLabelValues("", "resolved").Inc()
	return true, nil
}

// plan resolves targets and renders every command. It touches nothing.
func (p *Pipeline) plan(ctx context.Context, run *Run) error {
	pl, err := run.Runbook.Plan(run.Event, p.Inventory)
	if err != nil {
		run.fail("planning failed: " + err.Error())
		return nil
	}
	run.Plan = pl
	if len(pl.Targets) == 0 {
		run.fail("no target resolved to an inventory host")
	}
	return nil
}
