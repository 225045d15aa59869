package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// The large setup: a three-node cluster, everything replicated three times. Losing the
// stream's leader must not lose an acknowledged event or stop publishing for long.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := natsserver.StartCluster(t, 3)
	q := connect(t, c.Servers[0], func(cfg *queue.Config) { cfg.URLs = c.URLs(); cfg.Replicas = 3 })
	publish(t, q, event("before-failover"))

	s, err := q.JetStream().Stream(t.Context(), queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil {
		t.Fatalf("stream not replicated: %+v", info.Config)
	}
	stopped := false
	for _, srv := range c.Servers {
		if srv.NATS().Name() == info.Cluster.Leader {
			srv.Shutdown()
			stopped = true
		}
	}
	if !stopped {
		t.Fatalf("stream leader %q is none of the nodes", info.Cluster.Leader)
	}
	start := time.Now()
	var dup bool
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, dup, err = q.Publish(ctx, event("before-failover")) // a redelivery during failover
		cancel()
		if err == nil || time.Since(start) > 15*time.Second {
			break
		}
	}
	if err != nil {
		t.Fatalf("no publish within 15s of losing the leader: %v", err)
	}
	if !dup {
		t.Error("the event stored before the failover was lost or its id forgotten")
	}
	t.Logf("publishing resumed %s after the leader shut down", time.Since(start).Round(time.Millisecond))
}
