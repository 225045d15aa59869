package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ensure creates or updates the stream, the consumer and the buckets. Two processes starting
// together race on creation, and a fresh cluster has no meta leader for its first second; both
// are retried until SetupTimeout. Errors the server gives for a bad configuration are not.
func (q *Queue) ensure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SetupTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		// A cluster without a meta leader does not answer at all: bound each attempt so that
		// one unanswered request cannot use up the whole setup time.
		actx, acancel := context.WithTimeout(ctx, min(time.Second<<(attempt-1), 5*time.Second))
		err := q.ensureOnce(actx)
		acancel()
		if err == nil {
			return nil
		}
		if !transientSetupError(err) {
			return fmt.Errorf("queue setup: %w", err)
		}
		q.log.Debug("queue setup retrying", "attempt", attempt, "err", err)
		if ctx.Err() != nil {
			return fmt.Errorf("queue setup: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue setup: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(min(time.Duration(attempt)*100*time.Millisecond, time.Second)):
		}
	}
}

func (q *Queue) ensureOnce(ctx context.Context) error {
	if _, err := q.js.CreateOrUpdateStream(ctx, q.streamConfig()); err != nil {
		return fmt.Errorf("stream %s: %w", q.cfg.Stream, err)
	}
	if _, err := q.js.CreateOrUpdateConsumer(ctx, q.cfg.Stream, q.consumerConfig()); err != nil {
		return fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	buckets := []struct {
		kv  *jetstream.KeyValue
		cfg jetstream.KeyValueConfig
	}{
		{&q.Runs, q.bucketConfig(BucketRuns, q.cfg.RunsTTL, 5, "run ledger: one entry per run, updated before and after each step")},
		{&q.Approvals, q.bucketConfig(BucketApprovals, q.cfg.ApprovalsTTL, 5, "approval gates waiting for a responder")},
		{&q.Leases, q.bucketConfig(BucketLeases, q.cfg.LeaseTTL, 1, "concurrency leases per runbook and host; expire unless renewed")},
	}
	for _, b := range buckets {
		kv, err := q.js.CreateOrUpdateKeyValue(ctx, b.cfg)
		if err != nil {
			return fmt.Errorf("kv bucket %s: %w", b.cfg.Bucket, err)
		}
		*b.kv = kv
	}
	return nil
}

func (q *Queue) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        q.cfg.Stream,
		Description: "incident events from webhooks, for Alaya workers",
		Subjects:    []string{q.cfg.Subjects + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      q.cfg.MaxAge,
		Duplicates:  q.cfg.Duplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    q.cfg.Replicas,
		MaxMsgSize:  1 << 20, // webhook bodies are capped at 256 KiB; the event is smaller
	}
}

func (q *Queue) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       q.cfg.Consumer,
		Description:   "Alaya workers",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		// One more than Consume's own limit, so that Consume terminates the event with a
		// logged reason instead of the server dropping it silently after the last attempt.
		MaxDeliver:    q.cfg.MaxDeliver + 1,
		FilterSubject: q.cfg.Subjects + ".>",
		Replicas:      q.cfg.Replicas,
	}
}

func (q *Queue) bucketConfig(name string, ttl time.Duration, history uint8, desc string) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: name, Description: desc, History: history, TTL: ttl,
		Storage: jetstream.FileStorage, Replicas: q.cfg.Replicas,
	}
}

// transientSetupError tells a race or an unready cluster (retry) from a configuration the
// server refuses (report).
func transientSetupError(err error) bool {
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return true // another process created it with other settings between our two calls
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= http.StatusInternalServerError
	}
	return true // timeouts, no responders, connection trouble
}
