package remediate_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/ledger"
)

// lostWrites is a runs bucket whose run records, while fail is set, cannot be written: each
// update finds that someone else wrote the record first (its revision moved on), which the
// ledger reports at once as a lost write.
type lostWrites struct {
	jetstream.KeyValue
	fail atomic.Bool
}

func (k *lostWrites) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	if k.fail.Load() && strings.HasPrefix(key, "run.") {
		if e, err := k.KeyValue.Get(ctx, key); err == nil {
			if _, err := k.KeyValue.Put(ctx, key, e.Value()); err != nil {
				return 0, err
			}
		}
		return 0, errors.New("injected: the record was written by someone else")
	}
	return k.KeyValue.Update(ctx, key, value, last)
}

// The sweep expires a gate and the run's ledger cannot be written: the incident is still told
// the gate expired, and the next sweep closes the run, which would otherwise stay parked for
// good.
func TestExpiredGateIsToldAndClosedThoughTheLedgerWriteFails(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)}
	b := newBedClock(t, gatedRunbook, clk.Now)
	faulty := &lostWrites{KeyValue: b.runs}
	b.ledgerKV = faulty
	p := b.newP("w1")
	code, runID := b.park(t, p, "PEXPIRE1")
	clk.Advance(time.Hour)
	faulty.fail.Store(true)
	_ = p.ExpireGates(t.Context()) // the ledger write fails
	if b.pd.find("(code "+code+") expired") == "" {
		t.Fatalf("the expiry is not on the incident when the ledger write failed: %q", b.pd.notes)
	}
	faulty.fail.Store(false)
	if err := p.ExpireGates(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rec := b.record(t, runID); rec.State == ledger.StateParked {
		t.Fatalf("the next sweep left the run parked at its expired gate: %+v", rec)
	}
	if n := strings.Count(strings.Join(b.pd.notes, "\n"), "(code "+code+") expired"); n != 1 {
		t.Errorf("the expiry was said %d times, want once", n)
	}
}

// A rejection whose ledger writes fail is still told, and its run closed, by the gate sweep:
// the rejected event delivered again only finds the gate decided.
func TestRejectedGateIsClosedBySweepWhenTheLedgerWriteFailed(t *testing.T) {
	b := newBed(t)
	faulty := &lostWrites{KeyValue: b.runs}
	b.ledgerKV = faulty
	p := b.newP("w1")
	code, runID := b.park(t, p, "PREJECT1")
	faulty.fail.Store(true)
	if err := p.Handle(t.Context(), noteBy("PREJECT1", "PONCALL", "/alaya reject "+code+" not now", "rj-1")); err == nil {
		t.Fatal("the rejection's ledger writes failed, yet the event was not retried")
	}
	faulty.fail.Store(false)
	if err := p.ExpireGates(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b.pd.find("(code "+code+") rejected by PONCALL: not now") == "" {
		t.Errorf("the rejection is not on the incident: %q", b.pd.notes)
	}
	if rec := b.record(t, runID); rec.State != ledger.StateRejected {
		t.Fatalf("run is %s after the sweep, want rejected", rec.State)
	}
}
