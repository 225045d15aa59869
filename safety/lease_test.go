package safety

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// flakyLeases is a real leases bucket whose next renewals fail: the first is refused before
// the server sees it (an outage), the second is applied but its reply is lost (a ghost write).
type flakyLeases struct {
	jetstream.KeyValue
	updates atomic.Int32
}

func (k *flakyLeases) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	switch k.updates.Add(1) {
	case 1:
		return 0, nats.ErrTimeout
	case 2:
		_, err := k.KeyValue.Update(ctx, key, value, last)
		return 0, errors.Join(context.DeadlineExceeded, err)
	}
	return k.KeyValue.Update(ctx, key, value, last)
}

// A lease survives renewals that fail or whose outcome is unknown: another run cannot take the
// host while its holder is alive, however long the change takes.
func TestLeaseKeepsRenewingThroughTransientErrors(t *testing.T) {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	const ttl = time.Second
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "leases", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	holder := New(&flakyLeases{KeyValue: kv}, kv, kv)
	other := New(kv, kv, kv)
	l, err := holder.AcquireHost(t.Context(), "app-1", "run-a", ttl/5)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.WithoutCancel(t.Context()))
	time.Sleep(3 * ttl) // the change goes on for three lease lifetimes
	if _, err := other.AcquireHost(t.Context(), "app-1", "run-b", ttl/5); !errors.Is(err, ErrHostBusy) {
		t.Fatalf("another run took the host while its holder was alive: err = %v", err)
	}
	select {
	case <-l.Lost():
		t.Fatal("the lease says lost though nobody else took it")
	default:
	}
}

// failoverDeletes is a real leases bucket whose first deletes go the way they go while the
// bucket's leader is being re-elected after a nats-server crash: unanswered before the server
// saw them ("no response from stream"), then applied with the reply lost.
type failoverDeletes struct {
	jetstream.KeyValue
	deletes atomic.Int32
}

func (k *failoverDeletes) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	switch k.deletes.Add(1) {
	case 1, 2:
		return jetstream.ErrNoStreamResponse
	case 3:
		return errors.Join(nats.ErrTimeout, k.KeyValue.Delete(ctx, key, opts...))
	}
	return k.KeyValue.Delete(ctx, key, opts...)
}

// A run that ends during a NATS failover still gives its host back at once. Before, one
// unanswered delete left the lease to its TTL (5 minutes) and the next approved change on the
// host waited two minutes for it and was refused.
func TestReleaseGivesTheHostBackThroughAFailover(t *testing.T) {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "leases", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	holder := New(&failoverDeletes{KeyValue: kv}, kv, kv)
	other := New(kv, kv, kv)
	l, err := holder.AcquireHost(t.Context(), "app-1", "run-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := l.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := other.AcquireHost(t.Context(), "app-1", "run-b", time.Minute); err != nil {
		t.Fatalf("the next run cannot take the host its last holder released: %v", err)
	}
}
