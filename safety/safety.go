// Package safety keeps Alaya from doing too much at once, across every worker: a cooldown per
// runbook and host (do not run the same remediation on the same host again too soon), an
// exclusive lease per host while a step changes it, a cap on actions per time window, and
// storm detection (when incidents arrive faster than a threshold, run diagnostics only).
//
// All state lives in JetStream KeyValue buckets and every write is create-or-compare-and-swap,
// so the limits hold for a fleet of workers, not just within one process. Every moment
// compared is the NATS server's (package servertime), so the limits hold whatever the
// workers' own clocks say.
package safety

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/internal/kvkey"
	"github.com/alaya-sre/alaya/internal/servertime"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrHostBusy means another run holds the host's lease: something is already changing it.
var ErrHostBusy = errors.New("another run is changing this host")

// Guard answers the safety questions for one worker.
type Guard struct {
	leases   jetstream.KeyValue // short-lived keys: host leases (the bucket's TTL reaps dead holders)
	state    jetstream.KeyValue // long-lived keys: cooldowns, window counters
	switches jetstream.KeyValue // keys that never expire: the fleet switches, holds on hosts
	// clock is the NATS server's time: cooldowns and windows written by one worker are read
	// by others, whose own clocks may be minutes off.
	clock clock
}

type clock interface {
	Now(ctx context.Context) (time.Time, error)
}

// New returns a guard over the leases bucket (short TTL), a long-lived state bucket and the
// switches bucket, which must have no TTL.
func New(leases, state, switches jetstream.KeyValue) *Guard {
	return &Guard{leases: leases, state: state, switches: switches, clock: servertime.New(servertime.FromKV(state))}
}

// token makes a name usable as one KV key token.
func token(s string) string { return kvkey.Token(s) }

// now is the server's time.
func (g *Guard) now(ctx context.Context) (time.Time, error) {
	t, err := g.clock.Now(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("safety: %w", err)
	}
	return t, nil
}
