package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

func TestConsumeAcksOnSuccess(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	got := make(chan *queue.Delivery, 1)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error { got <- d; return nil })
	seq := publish(t, q, event("ev-ack"))
	d := receive(t, got)
	if d.Event.ID != "ev-ack" || d.Event.Incident.Title != "disk full" || d.NumDelivered != 1 || d.Sequence != seq {
		t.Errorf("delivery = %+v, event %+v", d, d.Event)
	}
	if d.Subject != "alaya.events.pagerduty.incident.triggered" {
		t.Errorf("subject %q", d.Subject)
	}
	eventually(t, "ack", settled(t, q, seq))
}

func TestConsumeRedeliversOnRetry(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	got := make(chan *queue.Delivery, 2)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error {
		got <- d
		if d.NumDelivered == 1 {
			return queue.RetryAfter(errors.New("pagerduty answered 429"), 10*time.Millisecond)
		}
		return nil
	})
	seq := publish(t, q, event("ev-retry"))
	first, second := receive(t, got), receive(t, got)
	if first.NumDelivered != 1 || second.NumDelivered != 2 || second.Event.ID != "ev-retry" {
		t.Errorf("deliveries %d then %d of %s", first.NumDelivered, second.NumDelivered, second.Event.ID)
	}
	eventually(t, "ack after retry", settled(t, q, seq))
}

// An unclassified error is retried, with the configured back-off.
func TestConsumeRetriesUnclassifiedErrors(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	got := make(chan *queue.Delivery, 2)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error {
		got <- d
		if d.NumDelivered == 1 {
			return fmt.Errorf("ssh: connection refused")
		}
		return nil
	})
	publish(t, q, event("ev-plain"))
	if d := receive(t, got); d.NumDelivered != 1 {
		t.Fatalf("first delivery %d", d.NumDelivered)
	}
	if d := receive(t, got); d.NumDelivered != 2 {
		t.Errorf("second delivery %d", d.NumDelivered)
	}
}

func TestConsumeTerminatesPermanentFailures(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	var calls atomic.Int32
	consume(t, q, func(context.Context, *queue.Delivery) error {
		calls.Add(1)
		return queue.Permanent(errors.New("host not in inventory"))
	})
	seq := publish(t, q, event("ev-term"))
	eventually(t, "term", settled(t, q, seq))
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
	if info := consumerInfo(t, q); info.NumRedelivered != 0 || info.NumPending != 0 {
		t.Errorf("after Term: redelivered %d, pending %d", info.NumRedelivered, info.NumPending)
	}
}

func TestConsumeGivesUpAfterMaxDeliver(t *testing.T) {
	q := connect(t, natsserver.Start(t), func(c *queue.Config) { c.MaxDeliver = 3 })
	seen := make(chan string, 10)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error {
		seen <- fmt.Sprintf("%d/%v", d.NumDelivered, d.Final)
		return errors.New("always failing")
	})
	seq := publish(t, q, event("ev-max"))
	eventually(t, "terminated after the last delivery", settled(t, q, seq))
	close(seen)
	var got []string
	for n := range seen {
		got = append(got, n)
	}
	// The handler is told which delivery is the last, so it can end its work with a word.
	if fmt.Sprint(got) != "[1/false 2/false 3/true]" {
		t.Errorf("deliveries (number/final) %v, want [1/false 2/false 3/true]", got)
	}
}

func TestConsumeTerminatesMalformedMessages(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	var calls atomic.Int32
	consume(t, q, func(context.Context, *queue.Delivery) error { calls.Add(1); return nil })
	for i, body := range []string{"not json", `{"type":"incident.triggered"}`} {
		ack, err := q.JetStream().Publish(t.Context(), "alaya.events.test.bad", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("term of bad message %d", i), settled(t, q, ack.Sequence))
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler called %d times for malformed messages", n)
	}
}

// A run longer than AckWait must not be handed to a second worker while the first is on it.
func TestConsumeHeartbeatKeepsSlowRunFromRedelivery(t *testing.T) {
	const ackWait = 300 * time.Millisecond
	q := connect(t, natsserver.Start(t), func(c *queue.Config) { c.AckWait = ackWait; c.Workers = 2 })
	var calls atomic.Int32
	done := make(chan struct{})
	consume(t, q, func(ctx context.Context, d *queue.Delivery) error {
		if calls.Add(1) == 1 {
			// The slow step itself: three ack waits without touching the message.
			select {
			case <-time.After(3 * ackWait):
			case <-ctx.Done():
			}
			close(done)
		}
		return nil
	})
	seq := publish(t, q, event("ev-slow"))
	<-done
	eventually(t, "ack of the slow run", settled(t, q, seq))
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1 (redelivered during the run)", n)
	}
	if info := consumerInfo(t, q); info.NumRedelivered != 0 {
		t.Errorf("%d redeliveries", info.NumRedelivered)
	}
}

func TestConsumeRecoversHandlerPanics(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	got := make(chan uint64, 2)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error {
		got <- d.NumDelivered
		if d.NumDelivered == 1 {
			panic("nil map")
		}
		return nil
	})
	publish(t, q, event("ev-panic"))
	if a, b := <-got, <-got; a != 1 || b != 2 {
		t.Errorf("deliveries %d, %d", a, b)
	}
}

// Events are handled concurrently, up to Workers at a time.
func TestConsumeRunsWorkersConcurrently(t *testing.T) {
	q := connect(t, natsserver.Start(t), func(c *queue.Config) { c.Workers = 3 })
	started := make(chan struct{}, 3)
	release := make(chan struct{})
	consume(t, q, func(ctx context.Context, _ *queue.Delivery) error {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	for i := range 3 {
		publish(t, q, event(fmt.Sprint("ev-par-", i)))
	}
	for range 3 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("fewer than 3 handlers running at once")
		}
	}
	close(release)
}

// A worker that goes away with NATS comes back with it and handles what was queued.
func TestConsumeSurvivesServerRestart(t *testing.T) {
	srv := natsserver.Start(t)
	q := connect(t, srv, nil)
	got := make(chan *queue.Delivery, 4)
	consume(t, q, func(_ context.Context, d *queue.Delivery) error { got <- d; return nil })
	seq := publish(t, q, event("before"))
	receive(t, got)
	eventually(t, "ack before restart", settled(t, q, seq))
	srv.Restart()
	eventually(t, "reconnect", func() bool { return q.Ready(t.Context()) == nil })
	publish(t, q, event("after"))
	if d := receive(t, got); d.Event.ID != "after" || d.NumDelivered != 1 {
		t.Errorf("after restart got %s (delivery %d)", d.Event.ID, d.NumDelivered)
	}
}
