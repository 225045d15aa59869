package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A run is abandoned when its handler is gone and its event will never be delivered again:
// the event was acknowledged by a process that does not know the run (another installation on
// the same consumer), terminated, deleted from the stream, or ran out of deliveries. Nothing
// would ever adopt such a run, so a sweep ends it instead (remediate.SweepAbandoned).

// scanTimeout bounds one pass over the ledger.
const scanTimeout = time.Minute

// Silent returns the runs a sweep must look at: those still running whose record nobody has
// written for at least quiet, by the NATS server's clock, and those already abandoned whose
// note is not out yet (a sweeper that stopped half way). Each handle writes as a new owner,
// with compare-and-swap against the revision read, so of several sweepers, or a sweeper and
// a handler that was alive after all, exactly one writes.
//
// The ledger keeps a month of runs, nearly all of them finished. A pass reads only the keys
// and revisions (one watch, headers only), and fetches a record only if this ledger has not
// seen it at that revision already settled: a record that is not running changes only by a
// write, which gives it a new revision.
func (l *Ledger) Silent(ctx context.Context, quiet time.Duration) ([]*Handle, error) {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	now, err := l.serverNow(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := l.revisions(ctx)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	settled := l.settled
	l.mu.Unlock()
	next := map[string]uint64{}
	var out []*Handle
	for key, rev := range revs {
		if settled[key] == rev {
			next[key] = rev
			continue
		}
		h, done, err := l.look(ctx, key, now, quiet)
		if err != nil {
			return nil, err
		}
		if done != 0 {
			next[key] = done
		}
		if h != nil {
			out = append(out, h)
		}
	}
	l.mu.Lock()
	l.settled = next // keys gone from the bucket (TTL) are forgotten here
	l.mu.Unlock()
	return out, nil
}

// revisions lists every run record's key and latest revision.
func (l *Ledger) revisions(ctx context.Context) (map[string]uint64, error) {
	w, err := l.kv.Watch(ctx, runKey(">"), jetstream.IgnoreDeletes(), jetstream.MetaOnly())
	if err != nil {
		return nil, fmt.Errorf("ledger: scan: %w", err)
	}
	defer w.Stop()
	revs := map[string]uint64{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: scan: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil {
				return revs, nil
			}
			revs[e.Key()] = e.Revision()
		}
	}
}

// look reads one record: its handle if a sweep must look at it, and the revision at which it
// is settled (not running, nothing left to say), 0 when it is not.
func (l *Ledger) look(ctx context.Context, key string, now time.Time, quiet time.Duration) (*Handle, uint64, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil // expired since the listing
	}
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: scan %s: %w", key, err)
	}
	var rec Record
	if json.Unmarshal(e.Value(), &rec) != nil {
		return nil, e.Revision(), nil // never a run a sweep can end
	}
	lost := rec.State == StateRunning && now.Sub(e.Created()) >= quiet
	unsaid := rec.State == StateAbandoned && !rec.Noted
	switch {
	case lost || unsaid:
		h := l.handle()
		h.rec, h.rev, h.written = rec, e.Revision(), e.Created()
		return h, 0, nil
	case rec.State == StateRunning:
		return nil, 0, nil // young: it ages without a write
	}
	return nil, e.Revision(), nil
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
