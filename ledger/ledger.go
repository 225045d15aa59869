package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ledger keeps run records in a JetStream KeyValue bucket. Ownership of a run is taken with
// Create (only one worker can) and every later write is compare-and-swap on the revision, so
// two workers can never both believe they own a run.
type Ledger struct {
	kv    jetstream.KeyValue
	owner string
	now   func() time.Time
	stale time.Duration // a running record not heartbeated for this long belongs to a dead worker
}

// New returns a ledger writing as owner.
func New(kv jetstream.KeyValue, owner string, stale time.Duration) *Ledger {
	return &Ledger{kv: kv, owner: owner, now: time.Now, stale: stale}
}

// ErrRunElsewhere means another live worker is executing this run now.
var ErrRunElsewhere = errors.New("run is being executed by another worker")

// Handle is the owner's grip on a run record: it serialises writes from the goroutines
// running steps on several hosts and keeps the revision for compare-and-swap.
type Handle struct {
	l   *Ledger
	mu  sync.Mutex
	rec Record
	rev uint64
}

// Begin creates the record for a new run, or returns the existing one. fresh is true when this
// call created it. An existing running record whose owner stopped heartbeating is taken over,
// with recover applied; one whose owner is alive yields ErrRunElsewhere.
func (l *Ledger) Begin(ctx context.Context, rec Record) (h *Handle, fresh bool, err error) {
	now := l.now()
	rec.Owner, rec.Heartbeat, rec.Created, rec.State = l.owner, now, now, StateRunning
	if rec.Steps == nil {
		rec.Steps = map[string]Step{}
	}
	data, _ := json.Marshal(rec)
	rev, err := l.kv.Create(ctx, runKey(rec.ID), data)
	if err == nil {
		return &Handle{l: l, rec: rec, rev: rev}, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("ledger: create %s: %w", rec.ID, err)
	}
	h, err = l.Load(ctx, rec.ID)
	if err != nil {
		return nil, false, err
	}
	if h.rec.State == StateRunning && h.rec.Owner != l.owner && now.Sub(h.rec.Heartbeat) < l.stale {
		return nil, false, ErrRunElsewhere
	}
	return h, false, nil
}

// Load reads a run record.
func (l *Ledger) Load(ctx context.Context, id string) (*Handle, error) {
	e, err := l.kv.Get(ctx, runKey(id))
	if err != nil {
		return nil, fmt.Errorf("ledger: get %s: %w", id, err)
	}
	h := &Handle{l: l, rev: e.Revision()}
	if err := json.Unmarshal(e.Value(), &h.rec); err != nil {
		return nil, fmt.Errorf("ledger: decode %s: %w", id, err)
	}
	return h, nil
}

func runKey(id string) string { return "run." + id }

// Record returns a copy of the current record.
func (h *Handle) Record() Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := h.rec
	rec.Steps = make(map[string]Step, len(h.rec.Steps))
	for k, v := range h.rec.Steps {
		rec.Steps[k] = v
	}
	return rec
}

// Update applies change to the record and writes it with compare-and-swap. A revision mismatch
// means another worker took the run over; the caller must stop.
func (h *Handle) Update(ctx context.Context, change func(*Record)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := h.rec
	next.Steps = make(map[string]Step, len(h.rec.Steps)+1)
	for k, v := range h.rec.Steps {
		next.Steps[k] = v
	}
	change(&next)
	next.Owner, next.Heartbeat = h.l.owner, h.l.now()
	data, _ := json.Marshal(next)
	rev, err := h.l.kv.Update(ctx, runKey(next.ID), data, h.rev)
	if err != nil {
		return fmt.Errorf("ledger: update %s: %w", next.ID, err)
	}
	h.rec, h.rev = next, rev
	return nil
}

// Adopt takes over a record left by a dead worker: read-only steps that were started may run
// again, but a step that changes a system and never finished is marked unknown, and so is the
// run, so nothing acts twice.
func (h *Handle) Adopt(ctx context.Context) (unknown []string, err error) {
	err = h.Update(ctx, func(r *Record) {
		for k, s := range r.Steps {
			if s.Status != StepStarted {
				continue
			}
			if s.Mutating {
				s.Status, s.Error = StepUnknown, "the worker running this step stopped before it finished"
				r.Steps[k] = s
				unknown = append(unknown, k)
			} else {
				delete(r.Steps, k) // safe to run again
			}
		}
		if len(unknown) > 0 {
			r.State, r.Reason = StateUnknown, "a worker died during a step that changes a system"
		} else {
			r.State = StateRunning
		}
	})
	return unknown, err
}

// Takeover returns the handle of a run whose record says running but whose owner stopped
// heartbeating, so that a new owner can adopt it; ErrRunElsewhere while the owner is alive.
func (l *Ledger) Takeover(ctx context.Context, id string) (*Handle, error) {
	h, err := l.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if h.rec.Owner != l.owner && l.now().Sub(h.rec.Heartbeat) < l.stale {
		return nil, ErrRunElsewhere
	}
	return h, nil
}

// Heartbeat refreshes the owner's liveness until ctx ends.
func (h *Handle) Heartbeat(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = h.Update(ctx, func(*Record) {})
		}
	}
}
