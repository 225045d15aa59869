package outbox

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func newOutbox(t *testing.T, notes Poster) *Outbox {
	t.Helper()
	return New(outboxKV(t), notes, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
}

// A run's note that has not been posted yet is replaced by the run's newer note for the same
// slot: the responder reads what happened last, not a stale first draft.
func TestANoteNotYetPostedIsReplacedByNewerContent(t *testing.T) {
	notes := &flakyNotes{failures: 1}
	o := newOutbox(t, notes)
	ctx := t.Context()
	if err := o.Enqueue(ctx, "r1", "PINC1", "approved · executing"); err != nil {
		t.Fatal(err)
	}
	_ = o.Deliver(ctx, "r1") // PagerDuty is away: the note waits
	if err := o.Enqueue(ctx, "r1", "PINC1", "1/1 hosts ok"); err != nil {
		t.Fatal(err)
	}
	drain(t, o, "r1")
	if len(notes.posted) != 1 || notes.posted[0] != "1/1 hosts ok" {
		t.Errorf("posted %q, want only the newer content", notes.posted)
	}
}

// A redelivered handler enqueues the same note again after it was posted: it is not posted
// twice.
func TestAPostedNoteIsNotPostedAgainWhenEnqueuedAgain(t *testing.T) {
	notes := &flakyNotes{}
	o := newOutbox(t, notes)
	ctx := t.Context()
	for range 2 {
		if err := o.Enqueue(ctx, "r1", "PINC1", "1/1 hosts ok"); err != nil {
			t.Fatal(err)
		}
		drain(t, o, "r1")
	}
	if len(notes.posted) != 1 {
		t.Errorf("posted %d times: %q", len(notes.posted), notes.posted)
	}
}

// drain delivers id until it has left the outbox, stepping past back-offs.
func drain(t *testing.T, o *Outbox, id string) {
	t.Helper()
	for range 10 {
		if _, err := o.kv.Get(t.Context(), noteKey(id)); err != nil {
			return
		}
		stepPastBackoff(o)
		_ = o.Deliver(t.Context(), id)
	}
	t.Fatalf("note %s still in the outbox", id)
}

// blockingNotes holds every post until release is closed, and counts them.
type blockingNotes struct {
	mu      sync.Mutex
	posted  int
	started chan struct{}
	release chan struct{}
}

func (b *blockingNotes) AddNote(ctx context.Context, _, _ string) (string, error) {
	b.mu.Lock()
	b.posted++
	b.mu.Unlock()
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return "N1", nil
}

// Workers whose clocks are six minutes apart share one outbox: the worker ahead must not take
// the note from the worker behind while that one is still posting it.
func TestAClaimHoldsAcrossWorkerClockSkew(t *testing.T) {
	kv := outboxKV(t)
	notes := &blockingNotes{started: make(chan struct{}, 2), release: make(chan struct{})}
	behind := New(kv, notes, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
	ahead := New(kv, notes, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()))
	skew(behind, -3*time.Minute)
	skew(ahead, 3*time.Minute)
	ctx := t.Context()
	if err := behind.Enqueue(ctx, "r1", "PINC1", "note"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = behind.Deliver(ctx, "r1"); close(done) }()
	<-notes.started // behind holds the claim and is posting
	aheadDone := make(chan struct{})
	go func() { _ = ahead.Deliver(ctx, "r1"); close(aheadDone) }()
	select {
	case <-aheadDone: // left the note alone
	case <-notes.started: // posted it a second time
	}
	close(notes.release)
	<-aheadDone
	<-done
	if notes.posted != 1 {
		t.Errorf("posted %d times: the worker ahead took a live claim", notes.posted)
	}
}
