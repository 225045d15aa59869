// Package queue is Alaya's only door to NATS JetStream: the stream that carries incident events
// from receivers to workers, the durable consumer the workers pull from, and the KeyValue
// buckets that hold run state.
//
// It exists so that the delivery rules are written once. A receiver publishes with the event id
// as the message id and learns whether JetStream stored the event (and whether it was a
// duplicate) before it answers the webhook. A worker's handler only says whether it succeeded,
// failed for now (Retry) or failed for good (Permanent); Consume turns that into Ack,
// NakWithDelay with back-off, or Term with a logged reason, and keeps long runs alive with
// InProgress heartbeats. Setup is idempotent: whichever daemon starts first creates the
// stream, consumer and buckets, and processes starting at the same moment do not fail.
// Operator commands only bind to what the daemons declared (Bind).
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Queue is a connection to JetStream with the stream, consumer and buckets ensured.
// It is safe for concurrent use.
type Queue struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	nc      *nats.Conn
	js      jetstream.JetStream
	closed  chan struct{} // closed by nats when the connection is closed for good
	once    sync.Once

	// The KeyValue buckets, ready to use.
	Runs, Approvals, Leases, Switches jetstream.KeyValue
}

// Connect connects to NATS (reconnecting forever afterwards, every state change logged) and
// declares the stream, the durable consumer and the KV buckets: it is for the daemons, whose
// config is the fleet's. It never lowers the replicas or the MaxDeliver it finds on the server
// (see ensure). Metrics are registered with reg (nil: not registered). opts are appended to the
// connection options, so tests can shorten ReconnectWait. nats.Connect itself is bounded by its
// dial timeout, not by ctx; the setup that follows is bounded by ctx and cfg.SetupTimeout.
func Connect(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer, opts ...nats.Option) (*Queue, error) {
	return open(ctx, cfg, logger, reg, opts, (*Queue).ensure)
}

// Bind connects to NATS and binds to the stream and buckets the daemons declared, without
// declaring or changing anything. Operator commands use it: a person showing the switches
// must not reconfigure the fleet with whatever their own config says. What does not exist is
// reported with ErrNotDeclared.
func Bind(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer, opts ...nats.Option) (*Queue, error) {
	return open(ctx, cfg, logger, reg, opts, (*Queue).bind)
}

func open(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer, opts []nats.Option,
	setup func(*Queue, context.Context) error) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	auth, err := cfg.authOptions()
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	q := &Queue{cfg: cfg, log: logger.With("component", "queue"), metrics: newMetrics(reg), closed: make(chan struct{})}
	nc, err := nats.Connect(strings.Join(cfg.URLs, ","), append(append(q.natsOptions(), auth...), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", strings.Join(cfg.URLs, ","), err)
	}
	q.nc = nc
	if q.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := setup(q, ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return q, nil
}

func (q *Queue) natsOptions() []nats.Option {
	opts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() { // closing is not news
				q.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			q.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(q.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			q.log.Error("nats async error", "err", err)
		}),
	}
	if q.cfg.Name != "" {
		opts = append(opts, nats.Name(q.cfg.Name))
	}
	return opts
}

// JetStream gives direct access for what this package does not wrap (tests, tools).
func (q *Queue) JetStream() jetstream.JetStream { return q.js }

// Conn is the underlying NATS connection.
func (q *Queue) Conn() *nats.Conn { return q.nc }

// Config is the configuration in effect, defaults applied.
func (q *Queue) Config() Config { return q.cfg }

// ErrNotConnected is returned by Ready while the connection to NATS is down.
var ErrNotConnected = errors.New("nats not connected")

// Ready reports whether events can be published now: the connection is up and the stream
// exists. It is meant for /readyz and costs one request to the server.
func (q *Queue) Ready(ctx context.Context) error {
	if st := q.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("%w (%s)", ErrNotConnected, st)
	}
	if _, err := q.js.Stream(ctx, q.cfg.Stream); err != nil {
		return fmt.Errorf("stream %s: %w", q.cfg.Stream, err)
	}
	return nil
}

// KV returns one of the buckets by name (BucketRuns, BucketApprovals, BucketLeases,
// BucketSwitches or another existing bucket).
func (q *Queue) KV(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	// After Bind the fields are nil and the bucket is bound here, when first needed.
	switch {
	case bucket == BucketRuns && q.Runs != nil:
		return q.Runs, nil
	case bucket == BucketApprovals && q.Approvals != nil:
		return q.Approvals, nil
	case bucket == BucketLeases && q.Leases != nil:
		return q.Leases, nil
	case bucket == BucketSwitches && q.Switches != nil:
		return q.Switches, nil
	}
	kv, err := q.js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, q.notDeclared("kv bucket "+bucket, err, jetstream.ErrBucketNotFound)
	}
	return bounded(kv), nil
}

// drainTimeout bounds Close.
const drainTimeout = 10 * time.Second

// Close drains the connection: pending publishes are flushed and subscriptions finish what
// they received before the connection closes. Stop Consume (cancel its context) first.
// Close is safe to call more than once.
func (q *Queue) Close() error {
	var err error
	q.once.Do(func() {
		if err = q.nc.Drain(); err != nil {
			// Nothing can be flushed to a server we are not connected to.
			q.nc.Close()
			if errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionClosed) {
				err = nil
			} else {
				err = fmt.Errorf("drain nats: %w", err)
			}
			return
		}
		select {
		case <-q.closed:
		case <-time.After(drainTimeout):
			q.nc.Close()
			err = fmt.Errorf("drain nats: not finished after %s", drainTimeout)
		}
	})
	return err
}
