package queue_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// connect returns a Queue on srv with short timings, closed by the test's cleanup.
func connect(t *testing.T, srv *natsserver.Server, change func(*queue.Config)) *queue.Queue {
	t.Helper()
	cfg := queue.Config{URLs: []string{srv.URL()}, AckWait: time.Second, BackOff: []time.Duration{20 * time.Millisecond}}
	if change != nil {
		change(&cfg)
	}
	// Bounds, not expectations: creating replicated assets on a loaded 2-core machine under
	// -race can take far longer than the production default allows.
	if cfg.SetupTimeout == 0 {
		cfg.SetupTimeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	q, err := queue.Connect(ctx, cfg, testLogger(t), prometheus.NewRegistry(), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func event(id string) *incident.Event {
	return &incident.Event{
		ID: id, Type: incident.TypeTriggered, Source: "pagerduty",
		Incident: incident.Incident{ID: "PGR0VU2", Title: "disk full", Status: incident.StatusTriggered},
	}
}

func publish(t *testing.T, q *queue.Queue, ev *incident.Event) uint64 {
	t.Helper()
	seq, _, err := q.Publish(t.Context(), ev)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return seq
}

// consume runs q.Consume with h until the test ends and checks that it stopped cleanly.
func consume(t *testing.T, q *queue.Queue, h queue.HandlerFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Consume returned %v, want context.Canceled", err)
		}
	})
}

// eventually polls cond until it holds or 10 s pass. It is for server-side state that has no
// notification (consumer counters), never to wait for our own goroutines.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func consumerInfo(t *testing.T, q *queue.Queue) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := q.JetStream().Consumer(t.Context(), q.Config().Stream, q.Config().Consumer)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info
}

// settled reports whether every delivered message has been acked or terminated.
func settled(t *testing.T, q *queue.Queue, upTo uint64) func() bool {
	return func() bool {
		info := consumerInfo(t, q)
		return info.NumAckPending == 0 && info.AckFloor.Stream >= upTo
	}
}

func receive(t *testing.T, ch <-chan *queue.Delivery) *queue.Delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
		return nil
	}
}
