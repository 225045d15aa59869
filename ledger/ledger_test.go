package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/ledger"
)

// lostReply is the real bucket, except that the next n writes are applied by the server and
// then reported to the caller as timed out: the reply was lost (a "ghost write").
type lostReply struct {
	jetstream.KeyValue
	n atomic.Int32
}

func (k *lostReply) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	rev, err := k.KeyValue.Update(ctx, key, value, last)
	if err == nil && k.n.Add(-1) >= 0 {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

// lostCreate is the real bucket whose next Create is applied and then reported timed out.
type lostCreate struct {
	jetstream.KeyValue
	n atomic.Int32
}

func (k *lostCreate) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	rev, err := k.KeyValue.Create(ctx, key, value, opts...)
	if err == nil && k.n.Add(-1) >= 0 {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

func bucket(t *testing.T) jetstream.KeyValue {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "runs"})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// A write applied by the server whose reply was lost is recognised by reading it back: the
// handle is not left at a stale revision, so the run's later writes still succeed.
func TestGhostWriteIsResolvedByReadingBack(t *testing.T) {
	kv := &lostReply{KeyValue: bucket(t)}
	l := ledger.New(kv, "w1", time.Minute)
	h, fresh, err := l.Begin(t.Context(), ledger.Record{ID: "r1"})
	if err != nil || !fresh {
		t.Fatalf("begin: fresh=%v err=%v", fresh, err)
	}
	kv.n.Store(1)
	if err := h.Update(t.Context(), func(r *ledger.Record) { r.Steps["0/a"] = ledger.Step{Status: ledger.StepStarted} }); err != nil {
		t.Fatalf("a write the server applied was reported failed: %v", err)
	}
	if err := h.Update(t.Context(), func(r *ledger.Record) { r.Steps["0/a"] = ledger.Step{Status: ledger.StepDone} }); err != nil {
		t.Fatalf("the write after a ghost write failed (stale revision): %v", err)
	}
	got, err := l.Load(t.Context(), "r1")
	if err != nil || got.Record().Steps["0/a"].Status != ledger.StepDone {
		t.Fatalf("record after both writes: %+v %v", got.Record(), err)
	}
}

// A new run whose create was applied but reported failed is this handler's, fresh: not someone
// else's run to wait for.
func TestGhostCreateIsThisHandlersRun(t *testing.T) {
	kv := &lostCreate{KeyValue: bucket(t)}
	kv.n.Store(1)
	l := ledger.New(kv, "w1", time.Minute)
	h, fresh, err := l.Begin(t.Context(), ledger.Record{ID: "r1"})
	if err != nil || !fresh {
		t.Fatalf("begin after a ghost create: fresh=%v err=%v", fresh, err)
	}
	if err := h.Update(t.Context(), func(r *ledger.Record) { r.NextStep = 1 }); err != nil {
		t.Fatalf("write after a ghost create: %v", err)
	}
}

// Two handlers in one process are two owners: the second does not adopt the first's live run.
func TestSecondHandlerInTheSameProcessDoesNotAdoptALiveRun(t *testing.T) {
	l := ledger.New(bucket(t), "host/42", time.Minute)
	if _, _, err := l.Begin(t.Context(), ledger.Record{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := l.Begin(t.Context(), ledger.Record{ID: "r1"})
	if !errors.Is(err, ledger.ErrRunElsewhere) {
		t.Fatalf("second handler of the same process: err = %v, want ErrRunElsewhere", err)
	}
}

// Liveness is the server's clock: an owner whose own clock is ten minutes behind (its
// heartbeat field says so) but that wrote just now is alive.
func TestLivenessIgnoresTheWritersClock(t *testing.T) {
	kv := bucket(t)
	slow := ledger.New(kv, "slow", time.Minute)
	h, _, err := slow.Begin(t.Context(), ledger.Record{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	// What a worker whose clock lags writes: every heartbeat field ten minutes old.
	rec := h.Record()
	rec.Heartbeat = time.Now().Add(-10 * time.Minute)
	if _, err := kv.Put(t.Context(), "run.r1", mustJSON(t, rec)); err != nil {
		t.Fatal(err)
	}
	other := ledger.New(kv, "other", time.Minute)
	if _, _, err := other.Begin(t.Context(), ledger.Record{ID: "r1"}); !errors.Is(err, ledger.ErrRunElsewhere) {
		t.Fatalf("a live run was adopted because of its writer's clock: err = %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hungReply applies the next n updates and then never answers, as a request sent just as a
// nats-server died: the reply inbox waits forever unless the caller bounds it.
type hungReply struct {
	jetstream.KeyValue
	n atomic.Int32
}

func (k *hungReply) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	rev, err := k.KeyValue.Update(ctx, key, value, last)
	if err == nil && k.n.Add(-1) >= 0 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return rev, err
}

// A write whose answer never comes is bounded and settled by reading back, even when the
// handler's own context has no deadline: on the fleet, a ledger write sent as a node was
// SIGKILLed hung its run for good.
func TestUnansweredWriteIsBoundedAndReadBack(t *testing.T) {
	kv := &hungReply{KeyValue: bucket(t)}
	l := ledger.New(kv, "w1", time.Minute)
	h, _, err := l.Begin(t.Context(), ledger.Record{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	kv.n.Store(1)
	done := make(chan error, 1)
	go func() {
		done <- h.Update(context.Background(), func(r *ledger.Record) { r.NextStep = 3 })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the applied write was reported failed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a write without an answer hung the handler")
	}
}

// movingOwnRecord is a bucket where, before every update, a write under the handle's own
// name lands (as late "ghost" writes of this handler would): each write then finds its own
// earlier write and builds on it, again and again.
type movingOwnRecord struct {
	jetstream.KeyValue
	owner   string
	updates atomic.Int32
}

func (k *movingOwnRecord) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	n := k.updates.Add(1)
	var rec ledger.Record
	if err := json.Unmarshal(value, &rec); err != nil {
		return 0, err
	}
	rec.Owner, rec.Write = k.owner, "late#"+string(rune('a'+n%26))
	late, _ := json.Marshal(rec)
	if _, err := k.KeyValue.Put(ctx, key, late); err != nil {
		return 0, err
	}
	return k.KeyValue.Update(ctx, key, value, last)
}

// A handler that keeps finding its own late writes gives up with an error after a few
// rounds instead of spinning inside the handle's lock for ever.
func TestEndlessLateOwnWritesAreBounded(t *testing.T) {
	kv := &movingOwnRecord{KeyValue: bucket(t)}
	l := ledger.New(kv, "w1", time.Minute)
	h, _, err := l.Begin(t.Context(), ledger.Record{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	kv.owner = h.Owner()
	err = h.Update(t.Context(), func(r *ledger.Record) { r.NextStep = 1 })
	if err == nil {
		t.Fatal("a write that never settles was reported done")
	}
	if n := kv.updates.Load(); n > 20 {
		t.Errorf("%d updates before giving up", n)
	}
}
