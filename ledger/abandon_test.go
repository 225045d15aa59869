package ledger_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/ledger"
)

// Silent finds a running run only once nobody has written it for the quiet time (the
// server's clock), and of two sweepers ending it at once exactly one does; a handler that
// writes after the sweep read the record keeps its run.
func TestSilentAndAbandon(t *testing.T) {
	kv := bucket(t)
	owner := ledger.New(kv, "w1", time.Minute)
	ctx := t.Context()
	h, _, err := owner.Begin(ctx, ledger.Record{ID: "r1", Incident: "P1", Runbook: "rb"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Update(ctx, func(r *ledger.Record) {
		r.Steps["0/a"] = ledger.Step{Status: ledger.StepDone}
		r.Steps["1/a"] = ledger.Step{Status: ledger.StepStarted, Mutating: true}
	}); err != nil {
		t.Fatal(err)
	}
	sweep := ledger.New(kv, "sweeper", time.Minute)
	if got, err := sweep.Silent(ctx, time.Hour); err != nil || len(got) != 0 {
		t.Fatalf("Silent(1h) = %d runs, %v; the run was just written", len(got), err)
	}
	// The sweep reads the run, then its handler shows it is alive: the handler keeps it.
	read := silentOnce(t, sweep)
	if err := h.Update(ctx, func(*ledger.Record) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := read.Abandon(ctx, "lost"); !errors.Is(err, ledger.ErrLost) {
		t.Fatalf("Abandon after the owner wrote = %v, want ErrLost", err)
	}
	// Two sweepers at once: one ends the run, the other loses.
	a, b := silentOnce(t, sweep), silentOnce(t, ledger.New(kv, "sweeper-2", time.Minute))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*ledger.Handle{a, b} {
		wg.Go(func() { _, errs[i] = s.Abandon(ctx, "lost") })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ledger.ErrLost) {
		t.Fatalf("two sweepers: %v; want exactly one ErrLost", errs)
	}
	rec, err := sweep.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Record()
	if got.State != ledger.StateAbandoned || got.Steps["1/a"].Status != ledger.StepUnknown || got.Steps["0/a"].Status != ledger.StepDone {
		t.Errorf("abandoned record %+v", got)
	}
	// Abandoned but not yet noted: still listed, whatever its age, until Noted.
	listed := silentOnce(t, sweep)
	if err := listed.Update(ctx, func(r *ledger.Record) { r.Noted = true }); err != nil {
		t.Fatal(err)
	}
	if got, err := sweep.Silent(ctx, anyAge); err != nil || len(got) != 0 {
		t.Errorf("Silent after the note = %d runs, %v; want none", len(got), err)
	}
}

// anyAge is a quiet time every running record has passed. Not 0: the server's time a worker
// knows is the stamp on an earlier answer plus the local time since, so it may trail the
// stamp of a write made a moment ago by up to half a round trip.
const anyAge = -time.Second

// silentOnce is the one run Silent(anyAge) lists.
func silentOnce(t *testing.T, l *ledger.Ledger) *ledger.Handle {
	t.Helper()
	got, err := l.Silent(t.Context(), anyAge)
	if err != nil || len(got) != 1 {
		t.Fatalf("Silent(anyAge) = %d runs, %v; want 1", len(got), err)
	}
	if got[0].Written().IsZero() {
		t.Error("a silent run's last write has no time")
	}
	return got[0]
}

// countGets is the real bucket, counting the run records read one by one.
type countGets struct {
	jetstream.KeyValue
	n atomic.Int32
}

func (k *countGets) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if strings.HasPrefix(key, "run.") {
		k.n.Add(1)
	}
	return k.KeyValue.Get(ctx, key)
}

// A sweep reads a finished or parked record once; it reads it again only when it changed.
func TestSilentReadsSettledRecordsOnce(t *testing.T) {
	kv := &countGets{KeyValue: bucket(t)}
	ctx := t.Context()
	l := ledger.New(kv, "w1", time.Minute)
	var parked *ledger.Handle
	for _, st := range []string{ledger.StateDone, ledger.StateParked} {
		h, _, err := l.Begin(ctx, ledger.Record{ID: "r-" + st})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Update(ctx, func(r *ledger.Record) { r.State = st }); err != nil {
			t.Fatal(err)
		}
		parked = h
	}
	pass := func(want int32, wantSilent int) {
		t.Helper()
		kv.n.Store(0)
		got, err := l.Silent(ctx, anyAge)
		if err != nil || len(got) != wantSilent || kv.n.Load() != want {
			t.Fatalf("Silent: %d runs, %d records read, %v; want %d and %d", len(got), kv.n.Load(), err, wantSilent, want)
		}
	}
	pass(2, 0)
	pass(0, 0)
	if err := parked.Update(ctx, func(r *ledger.Record) { r.State = ledger.StateRunning }); err != nil {
		t.Fatal(err)
	}
	pass(1, 1)
	pass(1, 1) // running records age without a write: read every pass
}
