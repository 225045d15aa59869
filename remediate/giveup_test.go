package remediate_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
)

// last is the final delivery of ev, as the queue hands it over: a failure now is terminated.
func last(ev *incident.Event) *queue.Delivery {
	return &queue.Delivery{Event: ev, NumDelivered: 20, Final: true}
}

// refusedNotes is an outbox bucket that, while fail is set, cannot take the notes whose id
// contains part.
type refusedNotes struct {
	jetstream.KeyValue
	part string
	fail atomic.Bool
}

func (k *refusedNotes) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	if k.fail.Load() && strings.HasPrefix(key, "note.") && strings.Contains(key, k.part) {
		return 0, errors.New("injected: note not stored")
	}
	return k.KeyValue.Create(ctx, key, value, opts...)
}

// An approved run that fails on the last delivery of its approval ends with its note: the
// incident must not be left with "approved" as the last word, and the run not left running.
func TestLastDeliveryEndsTheRunWithANote(t *testing.T) {
	b := newBed(t)
	faulty := &refusedNotes{KeyValue: b.runs, part: ".start."}
	b.outboxKV = faulty
	p := b.newP("w1")
	code, runID := b.park(t, p, "PGIVEUP1")
	faulty.fail.Store(true) // the run cannot announce itself: every delivery fails
	if err := p.HandleDelivery(t.Context(), last(approve("PGIVEUP1", code, "gu-1"))); err == nil {
		t.Fatal("the delivery did not fail")
	}
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times", n)
	}
	note := b.pd.find("gave up after 20 deliveries")
	if note == "" || !strings.Contains(note, "✗ here") || !strings.Contains(note, "restart: skipped (not run") {
		t.Fatalf("no final note with what is known of the steps: %q", b.pd.notes)
	}
	if rec := b.record(t, runID); rec.State == ledger.StateRunning {
		t.Errorf("the run is still %s after its last delivery", rec.State)
	}
}

// A decision whose processing fails on its last delivery before the run goes on is answered
// on the incident too.
func TestLastDeliveryOfADecisionIsAnswered(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, _ := b.park(t, p, "PGIVEUP2")
	b.pd.mu.Lock()
	b.pd.incidentErr = errors.New("injected: PagerDuty answers 503")
	b.pd.mu.Unlock()
	if err := p.HandleDelivery(t.Context(), last(approve("PGIVEUP2", code, "gu-2"))); err == nil {
		t.Fatal("the delivery did not fail")
	}
	note := b.pd.find("gave up after 20 deliveries")
	if note == "" || !strings.Contains(note, code) {
		t.Fatalf("the failed decision is not answered: %q", b.pd.notes)
	}
}
