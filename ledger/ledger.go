package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/servertime"
)

// Ledger keeps run records in a JetStream KeyValue bucket. Every handler of an event gets its
// own owner identity (worker name plus a nonce), so two handlers in one process are as
// distinct as two processes. Ownership is taken with Create, or by the first compare-and-swap
// on a record whose owner let go or stopped heartbeating.
type Ledger struct {
	kv     jetstream.KeyValue
	worker string            // the process, for people: host/pid
	stale  time.Duration     // a running record not written for this long (server time) is a dead owner's
	clock  *servertime.Clock // the NATS server's time
	// readBack bounds how long a write whose outcome is unknown is resolved by reading it back.
	readBack time.Duration

	mu sync.Mutex
	// settled are the run records Silent found settled (not running, nothing left to say),
	// by key and revision: the next pass does not fetch them again unless they changed.
	settled map[string]uint64
}

// New returns a ledger for the handlers of one worker process.
func New(kv jetstream.KeyValue, worker string, stale time.Duration) *Ledger {
	return &Ledger{kv: kv, worker: worker, stale: stale, clock: servertime.New(servertime.FromKV(kv)), readBack: 30 * time.Second}
}

var (
	// ErrRunElsewhere means another live handler is executing this run now.
	ErrRunElsewhere = errors.New("run is being executed by another handler")
	// ErrLost means another handler wrote the record since this one last did: it took the run
	// over, and this handler must stop.
	ErrLost = errors.New("run was taken over by another handler")
)

// Busy is ErrRunElsewhere with how long until the owner would count as dead if it stopped
// heartbeating now: the time to come back.
type Busy struct {
	Owner string
	Wait  time.Duration
}

func (b *Busy) Error() string {
	return fmt.Sprintf("%s (%s; its heartbeat is fresh)", ErrRunElsewhere, b.Owner)
}

func (b *Busy) Unwrap() error { return ErrRunElsewhere }

func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runKey(id string) string { return "run." + id }

// Begin creates the record for a new run, or returns the existing one. fresh is true when this
// call created it. An existing running record whose owner is alive yields a *Busy
// (ErrRunElsewhere); one whose owner let go or died is returned for the caller to adopt.
func (l *Ledger) Begin(ctx context.Context, rec Record) (h *Handle, fresh bool, err error) {
	h = l.handle()
	now := time.Now()
	rec.Owner, rec.Write, rec.Heartbeat, rec.Created, rec.State = h.owner, h.nextWrite(), now, now, StateRunning
	if rec.Steps == nil {
		rec.Steps = map[string]Step{}
	}
	data, _ := json.Marshal(rec)
	cctx, cancel := context.WithTimeout(ctx, writeTimeout) // bounded like every write (handle.go)
	rev, err := l.kv.Create(cctx, runKey(rec.ID), data)
	cancel()
	if err == nil {
		h.rec, h.rev = rec, rev
		return h, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		// The create may have been applied without our hearing of it: read it back.
		got, lerr := l.Load(ctx, rec.ID)
		if lerr != nil {
			return nil, false, fmt.Errorf("ledger: create %s: %w", rec.ID, err)
		}
		if got.rec.Write == rec.Write {
			got.owner, got.seq = h.owner, h.seq
			return got, true, nil
		}
	}
	h, err = l.Takeover(ctx, rec.ID)
	return h, false, err
}

// Load reads a run record; the handle writes as a new owner.
func (l *Ledger) Load(ctx context.Context, id string) (*Handle, error) {
	h, _, err := l.load(ctx, id)
	return h, err
}

func (l *Ledger) load(ctx context.Context, id string) (*Handle, jetstream.KeyValueEntry, error) {
	gctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	e, err := l.kv.Get(gctx, runKey(id))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: get %s: %w", id, err)
	}
	h := l.handle()
	h.rev, h.written = e.Revision(), e.Created()
	if err := json.Unmarshal(e.Value(), &h.rec); err != nil {
		return nil, nil, fmt.Errorf("ledger: decode %s: %w", id, err)
	}
	return h, e, nil
}

func (l *Ledger) handle() *Handle { return &Handle{l: l, owner: l.worker + "/" + nonce()} }

// Takeover returns the handle of a run for a new owner, unless the record says running under
// an owner whose last write is younger than the stale time by the server's clock: then a
// *Busy. The new owner's first write claims the run (compare-and-swap), so of two handlers
// taking over at once exactly one proceeds.
func (l *Ledger) Takeover(ctx context.Context, id string) (*Handle, error) {
	h, e, err := l.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if h.rec.State != StateRunning || h.rec.Owner == "" {
		return h, nil
	}
	now, err := l.serverNow(ctx)
	if err != nil {
		return nil, err
	}
	if age := now.Sub(e.Created()); age < l.stale {
		return nil, &Busy{Owner: h.rec.Owner, Wait: l.stale - age}
	}
	return h, nil
}

// serverNow is the NATS server's clock (package servertime: the stamp on a read-only stream
// info answer, advanced by the local monotonic clock between asks). Liveness compares it with
// the server's timestamp of the owner's last write, so no two workers' clocks meet; nothing is
// written to learn it.
func (l *Ledger) serverNow(ctx context.Context) (time.Time, error) {
	t, err := l.clock.Now(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: %w", err)
	}
	return t, nil
}
