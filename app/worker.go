package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alaya-sre/alaya/actions/balancers"
	"github.com/alaya-sre/alaya/actions/elbv2"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/runbooks"
	"github.com/alaya-sre/alaya/safety"
	"github.com/alaya-sre/alaya/webhook"
)

// Worker is the process that runs runbooks: it consumes events, runs the pipeline, and keeps
// the note outbox moving.
type Worker struct {
	catalog  *catalog // the runbooks in force; SIGHUP reloads them
	cfg      *config.Config
	log      *slog.Logger
	reg      *prometheus.Registry
	queue    *queue.Queue
	exec     *executor.Router
	pipeline *remediate.Pipeline
	outbox   *outbox.Outbox
	elbv2    elbv2.API // nil unless elbv2.region is set
}

// NewWorker loads the inventory and runbooks (failing on any problem, with file and line),
// connects to NATS and PagerDuty, and assembles the pipeline.
func NewWorker(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Worker, error) {
	if err := cfg.CheckWorker(); err != nil {
		return nil, err
	}
	inv, err := inventory.Load(cfg.Worker.Inventory)
	if err != nil {
		return nil, err
	}
	catalog, err := loadCatalog(cfg.Worker.Runbooks, inv, log)
	if err != nil {
		return nil, err
	}
	store, err := newStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("worker: evidence: %w", err)
	}
	incidents, notes, pd, err := pagerDuty(cfg, log)
	if err != nil {
		return nil, err
	}
	if pd != nil {
		catalog.check = func(c *runbooks.Catalog) error {
			return checkApprovers(context.WithoutCancel(ctx), c, directory{pd}, log)
		}
		if err := catalog.check(catalog.Current()); err != nil {
			return nil, err
		}
	}
	reg := newRegistry()
	q, err := queue.Connect(ctx, QueueConfig(cfg), log, reg)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	w := &Worker{cfg: cfg, log: log, reg: reg, queue: q, exec: executor.New(inv, log, executor.WithRegisterer(reg))}
	if w.elbv2, err = elbv2Client(ctx, cfg.ELBv2); err != nil {
		q.Close()
		return nil, err
	}
	if err := w.assemble(ctx, inv, catalog, store, incidents, notes, pd); err != nil {
		q.Close()
		return nil, err
	}
	return w, nil
}

func (w *Worker) assemble(ctx context.Context, inv *inventory.Inventory, catalog *catalog,
	store evidence.Store, incidents remediate.Incidents, notes outbox.Poster, pd *pagerduty.Client) error {
	runsKV, err := w.queue.KV(ctx, queue.BucketRuns)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	metrics := remediate.NewMetrics(w.reg)
	// The process's name in the ledger, for people; each handler adds its own nonce.
	workerName := fmt.Sprintf("%s/%d", hostname(), os.Getpid())
	heartbeat, stale := runLiveness(w.cfg.Worker.AckWait)
	g, err := gates(ctx, w.cfg, w.queue, pd, w.log)
	if err != nil {
		return err
	}
	sw := w.cfg.Safety
	posted := &postedNotes{next: notes, kv: runsKV, log: w.log}
	if g != nil {
		g.Own = posted.Posted
	}
	w.outbox = outbox.New(runsKV, posted, w.log, outbox.NewMetrics(w.reg))
	poster, chat, err := workerSlack(w.cfg, pd, w.log, w.reg)
	if err != nil {
		return err
	}
	if poster != nil {
		w.outbox.WithSlack(poster)
	}
	w.catalog = catalog
	w.pipeline, err = remediate.New(remediate.Deps{
		Logger: w.log, Metrics: metrics, Inventory: inv, Incidents: incidents, Runner: w.exec, Store: store,
		Catalog:   catalog.Current,
		Ledger:    ledger.New(runsKV, workerName, stale),
		Outbox:    w.outbox,
		Redactor:  evidence.NewRedactor(w.cfg.Secrets()),
		Gates:     g,
		Balancers: balancers.Deps{Hosts: inv, Dialer: w.exec, ELBv2: w.elbv2},
		Chat:      chat,
		Safety: &remediate.Safety{Guard: safety.New(w.queue.Leases, runsKV, w.queue.Switches), Limits: safety.Limits{
			StormIncidents: sw.StormIncidents, StormWindow: sw.StormWindow,
			MaxActions: sw.MaxActions, ActionWindow: sw.ActionWindow,
		}},
		Redelivery: w.queue.RedeliveryHorizon,
		Options: remediate.Options{LinkTTL: w.cfg.Evidence.LinkTTL, Heartbeat: heartbeat,
			HandlerTimeout: w.cfg.Worker.HandlerTimeout,
			Switches:       remediate.Switches{KillSwitch: sw.KillSwitch, DryRun: sw.DryRun}},
	})
	return err
}

// runLiveness is how often a running run's handler writes its ledger record, and after how
// long without a write (by the NATS server's clock) the run belongs to a dead worker. A crashed
// worker's event comes back at most ack_wait after its last in-progress signal (sent every
// ack_wait/3), so at least 2/3 ack_wait after its last ledger write: the stale time stays
// below that, and the run is taken over on that very delivery, within ack_wait of the crash
// (30 s by default), instead of being answered "executing elsewhere".
func runLiveness(ackWait time.Duration) (heartbeat, stale time.Duration) {
	heartbeat = min(max(ackWait/6, 250*time.Millisecond), 5*time.Second)
	return heartbeat, 3 * heartbeat
}

// abandonSweep is how often a worker looks for runs nobody will ever finish. Such a run is
// found only after the handler deadline plus its event's redelivery horizon (hours by
// default) and each pass lists the whole ledger's keys, so there is no hurry: once a minute,
// or every ack wait or gate sweep if either is slower.
func abandonSweep(cfg config.Worker) time.Duration {
	return max(time.Minute, cfg.AckWait, cfg.GateSweep)
}

// pagerDuty returns the PagerDuty client, or, with no token configured (the embedded
// default), a local stand-in that prints notes and keeps them in a directory.
func pagerDuty(cfg *config.Config, log *slog.Logger) (remediate.Incidents, outbox.Poster, *pagerduty.Client, error) {
	if cfg.PagerDuty.Token == "" {
		ln := &localNotes{dir: cfg.Evidence.Dir, log: log}
		return ln, ln, nil, nil
	}
	c, err := pagerduty.New(pagerduty.Config{
		Token: cfg.PagerDuty.Token.Reveal(), APIURL: cfg.PagerDuty.APIURL, From: cfg.PagerDuty.From,
	}, log)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("worker: pagerduty: %w", err)
	}
	return c, &routedNotes{pagerDuty: c, local: &localNotes{dir: cfg.Evidence.Dir, log: log}}, c, nil
}

// routedNotes sends notes for incidents that exist in PagerDuty to PagerDuty, and keeps the
// others (Alertmanager groups and declared sources, whose ids Alaya made up) locally: posting
// them to PagerDuty would fail with 404 forever.
type routedNotes struct {
	pagerDuty, local outbox.Poster
}

func (r *routedNotes) AddNote(ctx context.Context, incidentID, content string) (string, error) {
	if !inPagerDuty(incidentID) {
		return r.local.AddNote(ctx, incidentID, content)
	}
	return r.pagerDuty.AddNote(ctx, incidentID, content)
}

// The outbox reads an incident back before posting a note again only through a Reader.
var (
	_ outbox.Reader = (*pagerduty.Client)(nil)
	_ outbox.Reader = (*routedNotes)(nil)
	_ outbox.Reader = (*postedNotes)(nil)
)

// IncidentNotes reads an incident's notes back from PagerDuty for the outbox (outbox.Reader);
// incidents kept locally have none to read back.
func (r *routedNotes) IncidentNotes(ctx context.Context, incidentID string) ([]incident.Note, error) {
	if !inPagerDuty(incidentID) {
		return nil, nil
	}
	reader, ok := r.pagerDuty.(outbox.Reader)
	if !ok {
		return nil, errors.New("notes cannot be read back from this pagerduty client")
	}
	return reader.IncidentNotes(ctx, incidentID)
}

// Run consumes events and serves health and metrics on ln (or worker.listen) until ctx ends.
func (w *Worker) Run(ctx context.Context, ln net.Listener) error {
	defer w.exec.Close()
	defer w.queue.Close()
	l, err := listen(w.cfg.Worker.Listen, ln)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() { errc <- serve(ctx, l, w.routes(), w.log) })
	wg.Go(func() { w.outbox.Run(ctx, 5*time.Second) })
	wg.Go(func() { w.pipeline.RunExpiry(ctx, w.cfg.Worker.GateSweep) })
	wg.Go(func() { w.pipeline.RunAbandonSweep(ctx, abandonSweep(w.cfg.Worker)) })
	wg.Go(func() { w.reloadOnHangup(ctx) })
	wg.Go(func() { errc <- w.consume(ctx) })
	w.log.Info("worker running", "addr", l.Addr().String())
	err = <-errc
	cancel()
	wg.Wait()
	if errors.Is(err, context.Canceled) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (w *Worker) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", webhook.Healthz())
	mux.Handle("GET /readyz", webhook.Readyz(w.queue.Ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{Registry: w.reg}))
	return mux
}

// RunWorker is the worker process.
func RunWorker(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	w, err := NewWorker(ctx, cfg, log)
	if err != nil {
		return err
	}
	return w.Run(ctx, nil)
}

// reloadOnHangup reloads the runbooks on SIGHUP, the usual signal for "read your config
// again", so a runbook deploy needs no restart. Runs already parked at a gate re-plan against
// the new runbooks when approved, and are refused if their plan changed.
func (w *Worker) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = w.catalog.Reload()
		}
	}
}

// consume runs the pipeline on events until ctx ends. Stopping stops the pulling at once, but
// the steps already running get worker.shutdown_grace to finish: cancelling a restart half
// way would leave its outcome unknown on the incident.
func (w *Worker) consume(ctx context.Context) error {
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	go func() {
		select {
		case <-work.Done():
			return
		case <-ctx.Done():
		}
		w.log.Info("stopping: running steps may finish, no new change starts", "grace", w.cfg.Worker.ShutdownGrace)
		w.pipeline.Drain()
		t := time.NewTimer(w.cfg.Worker.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			stopWork(fmt.Errorf("the worker's shutdown grace of %s ran out", w.cfg.Worker.ShutdownGrace))
		case <-work.Done():
		}
	}()
	return w.queue.Consume(ctx, queue.HandlerFunc(func(_ context.Context, d *queue.Delivery) error {
		return w.pipeline.HandleDelivery(work, d)
	}))
}
