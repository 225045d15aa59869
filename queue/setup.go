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
	sc := q.streamConfig()
	live, err := q.liveStream(ctx, sc.Name)
	if err != nil {
		return err
	}
	if live != nil {
		sc.Replicas = q.noDowngrade("stream", sc.Name, "replicas", live.Replicas, sc.Replicas)
	}
	if _, err := q.js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("stream %s: %w", q.cfg.Stream, err)
	}
	if err := q.ensureConsumer(ctx); err != nil {
		return err
	}
	for _, b := range q.buckets() {
		if err := q.ensureBucket(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (q *Queue) ensureConsumer(ctx context.Context) error {
	cc := q.consumerConfig()
	c, err := q.js.Consumer(ctx, q.cfg.Stream, q.cfg.Consumer)
	switch {
	case err == nil:
		live := c.CachedInfo().Config
		cc.Replicas = q.noDowngrade("consumer", cc.Durable, "replicas", live.Replicas, cc.Replicas)
		cc.MaxDeliver = q.noDowngrade("consumer", cc.Durable, "max_deliver", live.MaxDeliver, cc.MaxDeliver)
		// Consume gives an event up one delivery before the server would: keep that true.
		q.cfg.MaxDeliver = cc.MaxDeliver - 1
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	if _, err := q.js.CreateOrUpdateConsumer(ctx, q.cfg.Stream, cc); err != nil {
		return fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	return nil
}

func (q *Queue) ensureBucket(ctx context.Context, b bucket) error {
	live, err := q.liveStream(ctx, "KV_"+b.cfg.Bucket)
	if err != nil {
		return err
	}
	if live != nil {
		b.cfg.Replicas = q.noDowngrade("kv bucket", b.cfg.Bucket, "replicas", live.Replicas, b.cfg.Replicas)
	}
	kv, err := q.js.CreateOrUpdateKeyValue(ctx, b.cfg)
	if err != nil {
		return fmt.Errorf("kv bucket %s: %w", b.cfg.Bucket, err)
	}
	// Reads that decide see the last write (leaderget.go); every request has its own
	// deadline (bounded.go).
	*b.kv = bounded(leaderReads(kv, q.nc))
	return nil
}

// liveStream is the configuration of a stream as the server has it, nil if there is none.
func (q *Queue) liveStream(ctx context.Context, name string) (*jetstream.StreamConfig, error) {
	s, err := q.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	return &s.CachedInfo().Config, nil
}

// noDowngrade keeps a live value that is higher than the configured one. Replicas and
// MaxDeliver are what a fleet's durability rests on: a daemon started with a stale or
// shortened config (or a laptop's defaults) must not quietly take a three-node cluster down to
// one copy, or give events up sooner. Raising them is the config's to do; lowering them is a
// deliberate act with the nats CLI.
func (q *Queue) noDowngrade(kind, name, field string, live, want int) int {
	if live <= want {
		return want
	}
	q.log.Warn("refusing to downgrade what the server has; keeping the live value (lower it with the nats CLI if you mean it)",
		"kind", kind, "name", name, "field", field, "live", live, "configured", want)
	return live
}

type bucket struct {
	kv  *jetstream.KeyValue
	cfg jetstream.KeyValueConfig
}

// buckets are the KeyValue buckets the daemons declare and every process uses.
func (q *Queue) buckets() []bucket {
	return []bucket{
		{&q.Runs, q.bucketConfig(BucketRuns, q.cfg.RunsTTL, 5, "run ledger: one entry per run, updated before and after each step")},
		{&q.Approvals, q.bucketConfig(BucketApprovals, q.cfg.ApprovalsTTL, 5, "approval gates waiting for a responder")},
		{&q.Leases, q.bucketConfig(BucketLeases, q.cfg.LeaseTTL, 1, "concurrency leases per runbook and host; expire unless renewed")},
		// No TTL: a dry-run switched on for a month must still be on after the month.
		// The history is the audit trail of who switched what, kept for good.
		{&q.Switches, q.bucketConfig(BucketSwitches, 0, switchesHistory, "fleet-wide kill and dry-run switches; never expire")},
	}
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
		Bucket: q.cfg.bucketName(name), Description: desc, History: history, TTL: ttl,
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
