package safety

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is an exclusive hold on a host while a step changes it.
type Lease struct {
	g     *Guard
	owner string
	key   string
	rev   uint64
	stop  context.CancelFunc
	done  chan struct{}
}

func leaseKey(host string) string { return "host." + token(host) }

// AcquireHost takes the host's lease for owner (a run id), or fails with ErrHostBusy naming
// the holder. The owner taking it again (a resumed run) succeeds. The lease is renewed every
// renew until Release; if the worker dies, the leases bucket's TTL frees the host.
func (g *Guard) AcquireHost(ctx context.Context, host, owner string, renew time.Duration) (*Lease, error) {
	key := leaseKey(host)
	rev, err := g.leases.Create(ctx, key, []byte(owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		if e, gerr := g.leases.Get(ctx, key); gerr == nil {
			if string(e.Value()) == owner {
				rev, err = e.Revision(), nil // ours already: a resumed run
			} else {
				return nil, fmt.Errorf("%s: %w (%s)", host, ErrHostBusy, e.Value())
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("safety: lease %s: %w", host, err)
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Lease{g: g, owner: owner, key: key, rev: rev, stop: stop, done: make(chan struct{})}
	go l.keep(renewCtx, renew)
	return l, nil
}

func (l *Lease) keep(ctx context.Context, every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rev, err := l.g.leases.Update(ctx, l.key, []byte(l.owner), l.rev)
			if err != nil {
				return // lost it; Release will find out
			}
			l.rev = rev
		}
	}
}

// Release gives the host back. Releasing a lease another owner took over does nothing.
func (l *Lease) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	err := l.g.leases.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("safety: release %s: %w", l.key, err)
	}
	return nil
}
