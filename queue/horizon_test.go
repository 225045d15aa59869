package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// The horizon is the consumer's on the server: MaxDeliver as setup declared it (one more
// than the config's, so Consume terminates with a reason), each delivery's ack wait, and
// Consume's back-off between deliveries (the last entry repeating).
func TestRedeliveryHorizonFollowsTheLiveConsumer(t *testing.T) {
	srv := natsserver.Start(t)
	q := connect(t, srv, func(c *queue.Config) {
		c.AckWait, c.MaxDeliver, c.BackOff = 2*time.Second, 3, []time.Duration{time.Second, 5 * time.Second}
	})
	// 4 deliveries of 2 s, and 1 s + 5 s + 5 s between them.
	if got, err := q.RedeliveryHorizon(t.Context()); err != nil || got != 19*time.Second {
		t.Fatalf("RedeliveryHorizon = %s, %v; want 19s", got, err)
	}
	// Another daemon (or an operator) raises MaxDeliver on the server: the horizon follows.
	cfg := q.Config()
	js := q.JetStream()
	c, err := js.Consumer(t.Context(), cfg.Stream, cfg.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	live := c.CachedInfo().Config
	live.MaxDeliver = 6
	if _, err := js.UpdateConsumer(t.Context(), cfg.Stream, live); err != nil {
		t.Fatal(err)
	}
	if got, err := q.RedeliveryHorizon(t.Context()); err != nil || got != 6*2*time.Second+time.Second+4*5*time.Second {
		t.Errorf("after MaxDeliver 6: RedeliveryHorizon = %s, %v; want 33s", got, err)
	}
	live.MaxDeliver = -1
	if _, err := js.UpdateConsumer(t.Context(), cfg.Stream, live); err != nil {
		t.Fatal(err)
	}
	if _, err := q.RedeliveryHorizon(t.Context()); !errors.Is(err, queue.ErrNoHorizon) {
		t.Errorf("unlimited deliveries: err = %v, want ErrNoHorizon", err)
	}
}
