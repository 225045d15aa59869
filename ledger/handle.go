package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Handle is one handler's grip on a run record: it serialises writes from the goroutines
// running steps on several hosts and keeps the revision for compare-and-swap.
type Handle struct {
	l     *Ledger
	owner string
	mu    sync.Mutex
	rec   Record
	rev   uint64
	seq   int
	// written is the server's time of the version read (Load, Silent); zero for a handle
	// that wrote the record itself.
	written time.Time
}

func (h *Handle) nextWrite() string {
	h.seq++
	return fmt.Sprintf("%s#%d", h.owner, h.seq)
}

// Owner is the handler identity this handle writes as.
func (h *Handle) Owner() string { return h.owner }

// Record returns a copy of the current record.
func (h *Handle) Record() Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := h.rec
	rec.Steps = maps.Clone(h.rec.Steps)
	return rec
}

// Update applies change to the record and writes it with compare-and-swap. A write whose
// outcome is unknown (a timeout while the server may have applied it) is resolved by reading
// the record back, never assumed failed. ErrLost means another handler took the run over;
// the caller must stop.
func (h *Handle) Update(ctx context.Context, change func(*Record)) error {
	return h.write(ctx, change, h.owner)
}

// Release lets go of a run this handler leaves unfinished (a stop, a retryable failure): the
// record stays as it is, without an owner, so the next delivery adopts it at once instead of
// waiting for the heartbeat to go stale.
func (h *Handle) Release(ctx context.Context) error {
	if h.Record().State != StateRunning {
		return nil
	}
	return h.write(ctx, func(*Record) {}, "")
}

func (h *Handle) write(ctx context.Context, change func(*Record), owner string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for rebuilt := 0; ; rebuilt++ {
		if rebuilt > maxRebuilds {
			return fmt.Errorf("ledger: update %s: %d earlier writes of this handler landed late in a row; giving up", h.rec.ID, rebuilt-1)
		}
		next := h.rec
		next.Steps = maps.Clone(h.rec.Steps)
		if next.Steps == nil {
			next.Steps = map[string]Step{}
		}
		change(&next)
		next.Owner, next.Write, next.Heartbeat = owner, h.nextWrite(), time.Now()
		data, _ := json.Marshal(next)
		// Each write is bounded on its own: a request sent just as a nats-server dies is never
		// answered, and the handler's context may have no deadline. The read-back settles it.
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		rev, err := h.l.kv.Update(wctx, runKey(next.ID), data, h.rev)
		cancel()
		if err != nil {
			var own *ownWrite
			rev, err = h.resolve(ctx, next, data, err)
			if errors.As(err, &own) {
				// An earlier write of ours whose outcome was unknown landed after all: build
				// on it.
				h.rec, h.rev = own.rec, own.rev
				continue
			}
		}
		if err != nil {
			return err
		}
		h.rec, h.rev = next, rev
		return nil
	}
}

// maxRebuilds bounds how often one write is rebuilt on a late write of its own handler. Each
// late write is one earlier write whose answer was lost, so a few is already a bad outage;
// more means the record is not behaving as a record should, and holding the handle's lock in
// a loop would stop every host of the run with it.
const maxRebuilds = 5

// writeTimeout bounds one ledger write's wait for its answer; JetStream answers in
// milliseconds, a cluster electing a new leader in a few seconds.
const writeTimeout = 10 * time.Second

// ownWrite is a record read back that an earlier write of this handle produced.
type ownWrite struct {
	rec Record
	rev uint64
}

func (*ownWrite) Error() string { return "ledger: an earlier write of this handler was applied late" }

// resolve settles a write that failed: if the record read back carries this write, it was
// applied (a "ghost write" the server took after the client gave up); if the record is still
// at the revision written against, the write is tried again; anything else is another
// handler's write. Reads are retried through an outage for at most the ledger's read-back
// time, also when ctx has ended, because an unresolved write leaves the run's state unknown.
func (h *Handle) resolve(ctx context.Context, next Record, data []byte, cause error) (uint64, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.l.readBack)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		e, err := h.l.kv.Get(rctx, runKey(next.ID))
		if err == nil {
			var cur Record
			if err := json.Unmarshal(e.Value(), &cur); err != nil {
				return 0, fmt.Errorf("ledger: decode %s: %w", next.ID, err)
			}
			switch {
			case cur.Write == next.Write:
				return e.Revision(), nil
			case e.Revision() != h.rev && cur.Owner == h.owner:
				return 0, &ownWrite{rec: cur, rev: e.Revision()}
			case e.Revision() != h.rev:
				return 0, fmt.Errorf("ledger: update %s: %w (by %s)", next.ID, ErrLost, cur.Owner)
			}
			rev, uerr := h.l.kv.Update(rctx, runKey(next.ID), data, h.rev)
			if uerr == nil {
				return rev, nil
			}
			cause = uerr
		} else if errors.Is(err, jetstream.ErrKeyNotFound) {
			return 0, fmt.Errorf("ledger: update %s: record deleted: %w", next.ID, ErrLost)
		}
		select {
		case <-rctx.Done():
			return 0, fmt.Errorf("ledger: update %s: outcome unknown after %s: %w", next.ID, h.l.readBack, cause)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Adopt takes over a record left by a handler that died or let go: read-only steps that were
// started may run again, but a step that changes a system and never finished is marked
// unknown, so nothing acts twice. It returns the keys of the steps now unknown.
func (h *Handle) Adopt(ctx context.Context) (unknown []string, err error) {
	err = h.Update(ctx, func(r *Record) {
		unknown = nil
		for k, s := range r.Steps {
			if s.Status != StepStarted {
				continue
			}
			if s.Mutating {
				s.Status, s.Error = StepUnknown, "outcome unknown: the handler running this step stopped before it finished"
				r.Steps[k] = s
				unknown = append(unknown, k)
			} else {
				delete(r.Steps, k) // safe to run again
			}
		}
		r.State = StateRunning
	})
	return unknown, err
}

// Heartbeat proves the owner alive until ctx ends or the run is lost to another handler
// (then lost is called). A failed heartbeat during an outage is simply tried again.
func (h *Handle) Heartbeat(ctx context.Context, every time.Duration, lost func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := h.Update(ctx, func(*Record) {}); errors.Is(err, ErrLost) {
				lost()
				return
			}
		}
	}
}
