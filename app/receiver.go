package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/sources"
)

// Receiver is the HTTP process: it verifies webhooks and puts them on JetStream, serves the
// approval page and (with a local evidence directory) evidence links.
type Receiver struct {
	cfg   *config.Config
	log   *slog.Logger
	reg   *prometheus.Registry
	queue *queue.Queue
	evid  http.Handler // nil unless evidence lives in a local directory
	pd    *pagerduty.Client
	page  http.Handler // the approval page, on its own listener; nil without page_listen or a link key

	adminLn net.Listener // set by ServeAdminOn; nil: receiver.admin_listen
	// sources are the declared sources (receiver.sources_dir), each served on its own path.
	sources *sources.Set
	// slackKey signs Slack presses for the workers (the link key); nil: no slack.signing_secrets,
	// no interaction route.
	slackKey []byte
}

// NewReceiver refuses a config it cannot serve with (no webhook secret), connects to NATS, ensures the stream exists and prepares the routes.
func NewReceiver(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Receiver, error) {
	if err := cfg.CheckReceiver(); err != nil {
		return nil, err
	}
	reg := newRegistry()
	// Only the process that hosts NATS declares the stream and buckets here; otherwise the
	// workers do, and the receiver binds, so its NATS user may only look the stream up and
	// publish (and, with the page, read approvals).
	connect := queue.Bind
	if cfg.NATS.Embedded {
		connect = queue.Connect
	}
	q, err := connect(ctx, QueueConfig(cfg), log, reg)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &Receiver{cfg: cfg, log: log, reg: reg, queue: q}
	if cfg.PagerDuty.Token != "" {
		if r.pd, err = pagerduty.New(pagerduty.Config{Token: cfg.PagerDuty.Token.Reveal(),
			APIURL: cfg.PagerDuty.APIURL, From: cfg.PagerDuty.From}, log); err != nil {
			q.Close()
			return nil, fmt.Errorf("receiver: pagerduty: %w", err)
		}
	}
	if err := r.loadSources(os.Getenv); err != nil {
		q.Close()
		return nil, err
	}
	if err := r.approvalPage(ctx); err != nil {
		q.Close()
		return nil, err
	}
	if cfg.Slack.Interactive() {
		if r.slackKey, err = linkKey(cfg); err != nil {
			q.Close()
			return nil, fmt.Errorf("receiver: slack.signing_secrets: presses are signed for the workers with the link key: %w", err)
		}
	}
	if cfg.Evidence.Bucket == "" {
		fs, err := newFSStore(cfg)
		if err != nil {
			q.Close()
			return nil, fmt.Errorf("receiver: %w", err)
		}
		r.evid = fs.Handler()
	}
	return r, nil
}

// ServeAdminOn makes Run serve health and metrics on ln instead of opening
// receiver.admin_listen (tests hand in 127.0.0.1:0).
func (r *Receiver) ServeAdminOn(ln net.Listener) { r.adminLn = ln }

// Run serves webhooks on ln (or receiver.listen when ln is nil), and health and metrics on the
// admin listener, until ctx ends.
func (r *Receiver) Run(ctx context.Context, ln net.Listener) error {
	defer r.queue.Close()
	l, err := listen(r.cfg.Receiver.Listen, ln)
	if err != nil {
		return err
	}
	al, err := listen(r.cfg.Receiver.AdminListen, r.adminLn)
	if err != nil {
		l.Close()
		return err
	}
	r.log.Info("receiver listening", "addr", l.Addr().String(), "admin_addr", al.Addr().String())
	return r.serveWithPage(ctx, listener{l, r.routes()}, listener{al, r.adminRoutes()})
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func secretsFunc(cfg *config.Config) func() [][]byte {
	secrets := make([][]byte, len(cfg.Receiver.WebhookSecrets))
	for i, s := range cfg.Receiver.WebhookSecrets {
		secrets[i] = []byte(s.Reveal())
	}
	return func() [][]byte { return secrets }
}

// RunReceiver is the receiver process: with nats.embedded it also hosts the JetStream server
// the worker connects to (the one-machine setup).
func RunReceiver(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if cfg.NATS.Embedded {
		s, url, err := StartEmbeddedNATS(cfg)
		if err != nil {
			return err
		}
		defer func() { s.Shutdown(); s.WaitForShutdown() }()
		cfg.NATS.URLs = []string{url}
		log.Info("embedded NATS JetStream running", "url", url, "store_dir", cfg.NATS.StoreDir)
	}
	r, err := NewReceiver(ctx, cfg, log)
	if err != nil {
		return err
	}
	return r.Run(ctx, nil)
}
