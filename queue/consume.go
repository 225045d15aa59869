package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
)

const (
	// pullWait is how long one pull request waits for an event before asking again.
	pullWait = 30 * time.Second
	// pullErrorWait is the pause after a failed pull (NATS down, consumer missing).
	pullErrorWait = time.Second
)

// Consume pulls events from the durable consumer and runs h on each, at most cfg.Workers at a
// time, until ctx ends; it then waits for running handlers and returns ctx's error. An event
// is pulled only when a worker is free, so no event waits in a local buffer while its ack
// timer runs. Handlers receive ctx: when it is cancelled they should stop, and an event whose
// handler failed because of the shutdown is released for immediate redelivery elsewhere.
func (q *Queue) Consume(ctx context.Context, h Handler) error {
	slots := make(chan struct{}, q.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	var cons jetstream.Consumer
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		msg, err := q.next(ctx, &cons)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				continue // nothing to do for pullWait
			}
			q.log.Warn("pull from consumer failed", "consumer", q.cfg.Consumer, "err", err)
			if !sleep(ctx, pullErrorWait) {
				return ctx.Err()
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			q.deliver(ctx, msg, h)
		})
	}
}

// next waits up to pullWait for one event. The consumer handle is looked up lazily and
// forgotten on error, so Consume survives NATS restarts and a deleted consumer (recreated).
func (q *Queue) next(ctx context.Context, cons *jetstream.Consumer) (jetstream.Msg, error) {
	if *cons == nil {
		c, err := q.consumer(ctx)
		if err != nil {
			return nil, err
		}
		*cons = c
	}
	pctx, cancel := context.WithTimeout(ctx, pullWait)
	defer cancel()
	msg, err := (*cons).Next(jetstream.FetchContext(pctx))
	if err != nil && !errors.Is(err, nats.ErrTimeout) {
		*cons = nil
	}
	return msg, err
}

func (q *Queue) consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := q.js.Consumer(ctx, q.cfg.Stream, q.cfg.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		q.log.Warn("consumer missing, recreating", "consumer", q.cfg.Consumer)
		c, err = q.js.CreateOrUpdateConsumer(ctx, q.cfg.Stream, q.consumerConfig())
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	return c, nil
}

// deliver decodes msg, runs h with heartbeats, and settles the outcome.
func (q *Queue) deliver(ctx context.Context, msg jetstream.Msg, h Handler) {
	d, err := newDelivery(msg)
	if err != nil {
		q.settle(ctx, msg, d, Permanent(err), 0)
		return
	}
	d.Final = d.NumDelivered >= uint64(q.cfg.MaxDeliver) // decide terminates any failure now
	q.metrics.inFlight.Inc()
	defer q.metrics.inFlight.Dec()
	stop := heartbeat(msg, q.cfg.AckWait/3, q.log)
	start := time.Now()
	err = handle(ctx, h, d)
	stop()
	q.settle(ctx, msg, d, err, time.Since(start))
}

// newDelivery decodes the event. A message that does not decode can never be handled: the
// error is for Term. The returned Delivery is usable (for logging) even then.
func newDelivery(msg jetstream.Msg) (*Delivery, error) {
	d := &Delivery{Subject: msg.Subject(), msg: msg}
	meta, err := msg.Metadata()
	if err != nil {
		return d, fmt.Errorf("message metadata: %w", err)
	}
	d.NumDelivered, d.Sequence = meta.NumDelivered, meta.Sequence.Stream
	var ev incident.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		return d, fmt.Errorf("malformed event at stream sequence %d: %w", d.Sequence, err)
	}
	if ev.ID == "" {
		return d, fmt.Errorf("event at stream sequence %d has no id", d.Sequence)
	}
	d.Event = &ev
	return d, nil
}

// handle runs the handler, turning a panic into a retryable error so that one bad event
// cannot take the worker down; after MaxDeliver panics it is terminated like any failure.
func handle(ctx context.Context, h Handler, d *Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Retry(fmt.Errorf("handler panicked: %v", p))
		}
	}()
	return h.Handle(ctx, d)
}

// heartbeat sends InProgress every interval until stop is called, so a run longer than AckWait
// is not redelivered to another worker while this one is still on it.
func heartbeat(msg jetstream.Msg, interval time.Duration, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					log.Warn("in-progress heartbeat failed", "subject", msg.Subject(), "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// sleep waits for d or ctx, reporting whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
