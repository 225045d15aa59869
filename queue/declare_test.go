package queue_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// A daemon started with a stale config (one replica, fewer deliveries) against a cluster the
// fleet runs with three replicas must not take the fleet down to one copy or give events up
// sooner: it keeps what it finds and says why. Raising them is still the config's to do.
func TestDaemonRefusesToDowngrade(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := natsserver.StartCluster(t, 3)
	connect(t, c.Servers[0], func(cfg *queue.Config) { cfg.URLs = c.URLs(); cfg.Replicas = 3; cfg.MaxDeliver = 20 })

	var logs testenv.LogBuffer
	stale := queue.Config{URLs: c.URLs(), Replicas: 1, MaxDeliver: 10}
	q, err := queue.Connect(t.Context(), stale, slog.New(slog.NewTextHandler(&logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := t.Context()
	js := q.JetStream()
	for _, name := range []string{queue.DefaultStream, "KV_" + queue.BucketRuns, "KV_" + queue.BucketApprovals, "KV_" + queue.BucketLeases} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("%s went from 3 replicas to %d", name, r)
		}
	}
	cons, err := js.Consumer(ctx, queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if cc := cons.CachedInfo().Config; cc.MaxDeliver != 21 || cc.Replicas != 3 {
		t.Errorf("consumer max deliver %d replicas %d, want 21 and 3 kept", cc.MaxDeliver, cc.Replicas)
	}
	if !strings.Contains(logs.String(), "refusing to downgrade") || !strings.Contains(logs.String(), "max_deliver") {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}

	q2 := connect(t, c.Servers[0], func(cfg *queue.Config) { cfg.URLs = c.URLs(); cfg.Replicas = 3; cfg.MaxDeliver = 30 })
	cons, err = q2.JetStream().Consumer(ctx, queue.DefaultStream, queue.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if md := cons.CachedInfo().Config.MaxDeliver; md != 31 {
		t.Errorf("raising max deliver to 30 gave %d, want 31", md)
	}
}
