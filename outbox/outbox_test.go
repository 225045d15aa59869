package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/servertime"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// flakyNotes fails the first failures posts, then accepts, and counts what it accepted.
type flakyNotes struct {
	mu       sync.Mutex
	failures int
	posted   []string
}

func (f *flakyNotes) AddNote(_ context.Context, _, content string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return "", errors.New("pagerduty: 503 Service Unavailable")
	}
	f.posted = append(f.posted, content)
	return "N1", nil
}

func outboxKV(t *testing.T) jetstream.KeyValue {
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

func TestOutboxKeepsANoteUntilPagerDutyTakesIt(t *testing.T) {
	kv := outboxKV(t)
	notes := &flakyNotes{failures: 2}
	o := New(kv, notes, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	o.clock = servertime.Func(func() time.Time { return now })
	ctx := t.Context()

	if err := o.Enqueue(ctx, "r1", "PINC1", "Alaya · diag · 1/1 hosts ok"); err != nil {
		t.Fatal(err)
	}
	if err := o.Deliver(ctx, "r1"); err == nil {
		t.Fatal("first post failed at PagerDuty but Deliver reported success")
	}
	o.Sweep(ctx) // not due yet: backing off
	if len(notes.posted) != 0 || notes.failures != 1 {
		t.Fatalf("a note was retried before its back-off: posted %d, failures left %d", len(notes.posted), notes.failures)
	}
	now = now.Add(backoff(1))
	o.Sweep(ctx) // second failure
	now = now.Add(backoff(2))
	o.Sweep(ctx) // delivered
	o.Sweep(ctx) // nothing left
	if len(notes.posted) != 1 {
		t.Fatalf("note posted %d times, want exactly once after the failures", len(notes.posted))
	}
	if _, err := kv.Get(ctx, noteKey("r1")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("a delivered note stays in the outbox: %v", err)
	}
}

func TestOutboxPostsOnceWhenWorkersSweepTogether(t *testing.T) {
	kv := outboxKV(t)
	notes := &flakyNotes{}
	metrics := NewMetrics(prometheus.NewRegistry())
	ctx := t.Context()
	first := New(kv, notes, slog.New(slog.DiscardHandler), metrics)
	if err := first.Enqueue(ctx, "r2", "PINC2", "note"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 6 {
		o := New(kv, notes, slog.New(slog.DiscardHandler), metrics)
		wg.Go(func() { o.Sweep(ctx) })
	}
	wg.Wait()
	if len(notes.posted) != 1 {
		t.Errorf("six workers sweeping at once posted the note %d times", len(notes.posted))
	}
}

// skew gives o a worker clock d away from the real one; the outbox asks the server anyway.
func skew(o *Outbox, d time.Duration) {
	o.clock = servertime.New(servertime.FromKV(o.kv)).WithLocal(func() time.Time { return time.Now().Add(d) })
}

// stepPastBackoff lets the next Deliver try at once.
func stepPastBackoff(o *Outbox) {
	base := o.clock
	o.clock = servertime.Func(func() time.Time {
		now, _ := base.Now(context.Background())
		return now.Add(time.Hour)
	})
}
