package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// A bucket request that no server answers returns an error within the queue's own bound,
// even when the caller's context allows an hour, as a run's handler does. JetStream applies
// its default timeout only to a context without any deadline, and a request routed to a
// nats-server that dies before answering is never answered: TestKillNATSNode found a run
// waiting minutes in a switch read before its next step, its incident never told. Here the
// whole cluster is frozen (SIGSTOP), so nothing answers at all.
func TestBucketRequestsAreBoundedOnTheirOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server processes")
	}
	c := natsserver.StartProcessCluster(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg := queue.Config{URLs: c.URLs(), Replicas: 3}
	var q *queue.Queue
	var err error
	for q == nil && ctx.Err() == nil { // the cluster elects its meta leader first
		q, err = queue.Connect(ctx, cfg, testLogger(t), prometheus.NewRegistry(), nats.ReconnectWait(50*time.Millisecond))
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Switches.Put(ctx, "switch.kill", []byte("off")); err != nil {
		t.Fatal(err)
	}
	c.Freeze()
	defer c.Thaw()

	long, cancel := context.WithTimeout(t.Context(), time.Hour) // a run handler's context
	defer cancel()
	calls := map[string]func() error{
		"get":    func() error { _, err := q.Switches.Get(long, "switch.kill"); return err },
		"put":    func() error { _, err := q.Runs.Put(long, "k", []byte("v")); return err },
		"create": func() error { _, err := q.Leases.Create(long, "host.a", []byte("v")); return err },
		"update": func() error { _, err := q.Approvals.Update(long, "k", []byte("v"), 1); return err },
		"delete": func() error { return q.Leases.Delete(long, "host.a") },
	}
	done := make(chan error, len(calls))
	for name, call := range calls {
		go func() {
			if err := call(); err != nil {
				done <- fmt.Errorf("%s: %w", name, err)
			} else {
				done <- fmt.Errorf("%s: answered by a frozen cluster", name)
			}
		}()
	}
	// Far beyond the bound (three reads of 5 s), far below the handler's hour.
	limit := time.After(2 * time.Minute)
	for range calls {
		select {
		case err := <-done:
			t.Logf("answered: %v", err)
		case <-limit:
			t.Fatal("a bucket request to a cluster that does not answer was still waiting after 2 minutes")
		}
	}
}
