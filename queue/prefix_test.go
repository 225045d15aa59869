package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// TestTwoInstallationsInOneAccount: with only the stream name configurable, a second
// installation in the same NATS account failed with "subjects overlap with an existing
// stream", or, sharing the stream, joined the first one's consumer and took its events. One
// prefix now names the stream, subjects, consumer and buckets of an installation.
func TestTwoInstallationsInOneAccount(t *testing.T) {
	srv := natsserver.Start(t)
	prod := connect(t, srv, nil)
	staging := connect(t, srv, func(c *queue.Config) { c.Prefix = "staging" })

	publish(t, prod, event("prod-1"))
	publish(t, staging, event("staging-1"))
	for _, tt := range []struct {
		q    *queue.Queue
		want string
	}{{prod, "prod-1"}, {staging, "staging-1"}} {
		got := make(chan string, 4)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		go tt.q.Consume(ctx, queue.HandlerFunc(func(_ context.Context, d *queue.Delivery) error {
			got <- d.Event.ID
			return nil
		}))
		if id := <-got; id != tt.want {
			t.Errorf("consumer got %s, want %s", id, tt.want)
		}
		cancel()
	}
	if _, err := prod.Runs.Create(t.Context(), "k", []byte("prod")); err != nil {
		t.Fatal(err)
	}
	if _, err := staging.Runs.Get(t.Context(), "k"); err == nil {
		t.Error("staging reads production's run ledger")
	}
	st, err := staging.Runs.Status(t.Context())
	if err != nil || st.Bucket() != "staging_runs" {
		t.Errorf("staging runs bucket %v (%v), want staging_runs", st, err)
	}
	if s := staging.Subject(event("x")); s != "staging.events.pagerduty.incident.triggered" {
		t.Errorf("staging subject %s", s)
	}
}

func TestPrefixMustBeOneToken(t *testing.T) {
	for _, p := range []string{"a.b", "a b", "A*", ">"} {
		_, err := queue.Connect(t.Context(), queue.Config{URLs: []string{"nats://127.0.0.1:1"}, Prefix: p}, nil, prometheus.NewRegistry())
		if err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}
