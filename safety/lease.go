package safety

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
)

// Lease is an exclusive hold on a host while a run changes it. It is renewed in the
// background until Release, through transient NATS errors; Lost is closed only when another
// run holds the host now, so a step can be stopped instead of running unguarded.
type Lease struct {
	g     *Guard
	key   string
	value leaseValue
	mu    sync.Mutex
	rev   uint64
	stop  context.CancelFunc
	done  chan struct{}
	lost  chan struct{}
}

// leaseValue is what a lease key holds: the run that owns the host, and this holder's nonce,
// so that a write whose outcome was unknown is recognised when read back.
type leaseValue struct {
	Owner string `json:"owner"`
	Nonce string `json:"nonce"`
}

func leaseKey(host string) string { return "host." + token(host) }

func decodeLease(b []byte) leaseValue {
	var v leaseValue
	if json.Unmarshal(b, &v) != nil {
		v.Owner = string(b) // a lease written before values were JSON
	}
	return v
}

// AcquireHost takes the host's lease for owner (a run id), or fails with ErrHostBusy naming
// the holder. The owner taking it again (a resumed or adopted run) succeeds. The lease is
// renewed every renew until Release; if the worker dies, the leases bucket's TTL frees it.
func (g *Guard) AcquireHost(ctx context.Context, host, owner string, renew time.Duration) (*Lease, error) {
	l := &Lease{g: g, key: leaseKey(host), value: leaseValue{Owner: owner, Nonce: nonce()},
		done: make(chan struct{}), lost: make(chan struct{})}
	if err := l.claim(ctx); err != nil {
		return nil, fmt.Errorf("safety: lease %s: %w", host, err)
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go l.keep(renewCtx, renew)
	return l, nil
}

// claim writes the lease: created, taken over from the same owner, or found already written
// by this holder (a create whose reply was lost).
func (l *Lease) claim(ctx context.Context) error {
	data, _ := json.Marshal(l.value)
	rev, err := l.g.leases.Create(ctx, l.key, data)
	if err == nil {
		l.rev = rev
		return nil
	}
	e, gerr := l.g.leases.Get(ctx, l.key)
	if gerr != nil {
		return errors.Join(err, gerr)
	}
	cur := decodeLease(e.Value())
	switch {
	case cur == l.value:
		l.rev = e.Revision()
		return nil
	case cur.Owner != l.value.Owner:
		return fmt.Errorf("%w (%s)", ErrHostBusy, cur.Owner)
	}
	rev, err = l.g.leases.Update(ctx, l.key, data, e.Revision())
	l.rev = rev
	return err
}

// keep renews the lease until ctx ends. A failed renewal is tried again sooner, not given up:
// a NATS blip must not free a host in the middle of a change.
func (l *Lease) keep(ctx context.Context, every time.Duration) {
	defer close(l.done)
	wait := every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		switch err := l.renew(ctx); {
		case err == nil:
			wait = every
		case errors.Is(err, ErrHostBusy):
			close(l.lost)
			return
		default:
			wait = min(time.Second, every)
		}
	}
}

// renew rewrites the lease on its revision; a failure is resolved by reading it back: still
// ours (the write landed, or did not), gone (the TTL took it during an outage: take it again)
// or another run's (lost).
func (l *Lease) renew(ctx context.Context) error {
	data, _ := json.Marshal(l.value)
	l.mu.Lock()
	defer l.mu.Unlock()
	rev, err := l.g.leases.Update(ctx, l.key, data, l.rev)
	if err == nil {
		l.rev = rev
		return nil
	}
	e, gerr := l.g.leases.Get(ctx, l.key)
	switch {
	case errors.Is(gerr, jetstream.ErrKeyNotFound):
		return l.claim(ctx)
	case gerr != nil:
		return gerr
	case decodeLease(e.Value()) != l.value:
		return fmt.Errorf("%w (%s)", ErrHostBusy, decodeLease(e.Value()).Owner)
	}
	l.rev = e.Revision()
	return nil
}

// Lost is closed when another run took the host: the holder must stop changing it.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Release gives the host back. Releasing a lease another owner took over does nothing. A
// release that NATS does not answer (a failover) is tried again until ctx ends: a lease left
// behind keeps the host from the next run for the rest of the bucket's TTL.
func (l *Lease) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.g.leases.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		// The revision moved under an unresolved renewal, or the delete went unanswered.
		return l.g.releaseKey(ctx, l.key, l.value.Owner)
	}
	return nil
}

// ReleaseHost frees host if owner holds it: a run that ends releases what it held, also
// leases a dead handler of the same run took and never gave back.
func (g *Guard) ReleaseHost(ctx context.Context, host, owner string) error {
	return g.releaseKey(ctx, leaseKey(host), owner)
}

// releaseRetry is the pause between two attempts to release a lease while NATS fails over.
const releaseRetry = 500 * time.Millisecond

// releaseKey deletes key if owner holds it, reading it again before every attempt: a delete
// whose reply was lost may have landed, and a read answered by a replica that is behind may
// name a revision the delete is refused on. It gives up only when ctx ends.
func (g *Guard) releaseKey(ctx context.Context, key, owner string) error {
	for {
		err := g.releaseOnce(ctx, key, owner)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("safety: release %s: %w", key, err)
		case <-time.After(releaseRetry):
		}
	}
}

func (g *Guard) releaseOnce(ctx context.Context, key, owner string) error {
	e, err := g.leases.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if decodeLease(e.Value()).Owner != owner {
		return nil
	}
	err = g.leases.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	return nil
}

func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
