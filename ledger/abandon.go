package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A run is abandoned when its handler is gone and its event will never be delivered again:
// the event was acknowledged by a process that does not know the run (another installation on
// the same consumer), terminated, deleted from the stream, or ran out of deliveries. Nothing
// would ever adopt such a run, so a sweep ends it instead (remediate.SweepAbandoned).

// scanTimeout bounds one pass over the ledger: every record, in one watch.
const scanTimeout = time.Minute

// Silent returns the runs a sweep must look at: those still running whose record nobody has
// written for at least quiet, by the NATS server's clock, and those already abandoned whose
// note is not out yet (a sweeper that stopped half way). Each handle writes as a new owner,
// with compare-and-swap against the revision read, so of several sweepers, or a sweeper and
// a handler that was alive after all, exactly one writes.
func (l *Ledger) Silent(ctx context.Context, quiet time.Duration) ([]*Handle, error) {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	now, err := l.serverNow(ctx)
	if err != nil {
		return nil, err
	}
	// One watch delivers the latest version of every record, values included, then nil: a
	// pass over the whole ledger without a request per run.
	w, err := l.kv.Watch(ctx, runKey(">"), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("ledger: scan: %w", err)
	}
	defer w.Stop()
	var out []*Handle
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: scan: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			if h := l.silent(e, now, quiet); h != nil {
				out = append(out, h)
			}
		}
	}
}

// silent is the handle of e's run if a sweep must look at it, else nil.
func (l *Ledger) silent(e jetstream.KeyValueEntry, now time.Time, quiet time.Duration) *Handle {
	var rec Record
	if json.Unmarshal(e.Value(), &rec) != nil {
		return nil
	}
	lost := rec.State == StateRunning && now.Sub(e.Created()) >= quiet
	unsaid := rec.State == StateAbandoned && !rec.Noted
	if !lost && !unsaid {
		return nil
	}
	h := l.handle()
	h.rec, h.rev, h.written = rec, e.Revision(), e.Created()
	return h
}

// Written is the NATS server's time of the record version this handle read: for a silent
// run, the last sign of life of its handler.
func (h *Handle) Written() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.written
}

// Abandon ends a running run nobody will finish: the state becomes abandoned with why, and
// every step that had started becomes unknown (its handler stopped before it ended; a step
// that changes a system may or may not have taken effect). It returns those steps' keys. A
// handler or sweeper that wrote since the record was read wins: ErrLost.
func (h *Handle) Abandon(ctx context.Context, why string) (unknown []string, err error) {
	if st := h.Record().State; st != StateRunning {
		return nil, fmt.Errorf("ledger: abandon %s: the run is %s", h.Record().ID, st)
	}
	err = h.Update(ctx, func(r *Record) {
		unknown = nil
		for k, s := range r.Steps {
			if s.Status != StepStarted {
				continue
			}
			s.Status, s.Error = StepUnknown, "outcome unknown: "+why
			r.Steps[k] = s
			unknown = append(unknown, k)
		}
		r.State, r.Reason, r.Noted = StateAbandoned, why, false
	})
	return unknown, err
}
