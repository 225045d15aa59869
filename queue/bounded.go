package queue

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Every request to a bucket carries its own deadline. Callers hand down long contexts (a
// run's handler has an hour), and the client waits as long as the context allows: JetStream
// applies its 5 s default only to a context without any deadline. A request routed to a
// nats-server that is SIGKILLed before it answers is never answered, so before this bound a
// run waited in a switch read before its next step for as long as its handler could live.
const (
	// kvReadTimeout bounds one read; a read is tried kvReadAttempts times, since it is
	// idempotent and a failover is over in a few seconds.
	kvReadTimeout  = 5 * time.Second
	kvReadAttempts = 3
	// kvWriteTimeout bounds one write. Writes are not repeated here: a write that timed out
	// may have been applied, and only the caller knows how to read that back.
	kvWriteTimeout = 10 * time.Second
)

// boundedKV is a bucket whose request-reply calls are bounded as above. Watchers and key
// listings live as long as their context by design and are left as they are.
type boundedKV struct {
	jetstream.KeyValue
}

func bounded(kv jetstream.KeyValue) jetstream.KeyValue {
	if kv == nil {
		return nil
	}
	if _, ok := kv.(boundedKV); ok {
		return kv
	}
	return boundedKV{kv}
}

func (b boundedKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	return read(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return b.KeyValue.Get(ctx, key) })
}

func (b boundedKV) GetRevision(ctx context.Context, key string, revision uint64) (jetstream.KeyValueEntry, error) {
	return read(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) {
		return b.KeyValue.GetRevision(ctx, key, revision)
	})
}

func (b boundedKV) Status(ctx context.Context) (jetstream.KeyValueStatus, error) {
	return read(ctx, b.KeyValue.Status)
}

func (b boundedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, kvWriteTimeout)
	defer cancel()
	return b.KeyValue.Put(ctx, key, value)
}

func (b boundedKV) PutString(ctx context.Context, key string, value string) (uint64, error) {
	return b.Put(ctx, key, []byte(value))
}

func (b boundedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, kvWriteTimeout)
	defer cancel()
	return b.KeyValue.Create(ctx, key, value, opts...)
}

func (b boundedKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, kvWriteTimeout)
	defer cancel()
	return b.KeyValue.Update(ctx, key, value, revision)
}

func (b boundedKV) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	ctx, cancel := context.WithTimeout(ctx, kvWriteTimeout)
	defer cancel()
	return b.KeyValue.Delete(ctx, key, opts...)
}

func (b boundedKV) Purge(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	ctx, cancel := context.WithTimeout(ctx, kvWriteTimeout)
	defer cancel()
	return b.KeyValue.Purge(ctx, key, opts...)
}

// read tries an idempotent request up to kvReadAttempts times, each within kvReadTimeout,
// while the caller's context lasts and the failure is one of an unanswered request.
func read[T any](ctx context.Context, get func(context.Context) (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range kvReadAttempts {
		rctx, cancel := context.WithTimeout(ctx, kvReadTimeout)
		v, err = get(rctx)
		cancel()
		if err == nil || ctx.Err() != nil || !unanswered(err) {
			return v, err
		}
	}
	return v, err
}

// unanswered is a request that got no answer (rather than an answer that says no).
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}
