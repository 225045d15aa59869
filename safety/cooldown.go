package safety

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func cooldownKey(runbook, host string) string {
	return "cooldown." + token(runbook) + "." + token(host)
}

// Cooldown reports whether runbook changed host less than d ago in another run than run, and
// until when it must wait. A run's own earlier steps (detach, then restart) never cool it down.
func (g *Guard) Cooldown(ctx context.Context, runbook, host, run string, d time.Duration) (until time.Time, cooling bool, err error) {
	if d <= 0 {
		return time.Time{}, false, nil
	}
	e, err := g.state.Get(ctx, cooldownKey(runbook, host))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("safety: cooldown of %s on %s: %w", runbook, host, err)
	}
	stamp, by, _ := strings.Cut(string(e.Value()), " ")
	if by == run {
		return time.Time{}, false, nil
	}
	last, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, false, nil // unreadable: do not block remediation on our own bad data
	}
	until = last.Add(d)
	now, err := g.now(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	return until, now.Before(until), nil
}

// MarkRun records that run of runbook changed host now, starting its cooldown.
func (g *Guard) MarkRun(ctx context.Context, runbook, host, run string) error {
	now, err := g.now(ctx)
	if err != nil {
		return err
	}
	v := now.UTC().Format(time.RFC3339Nano) + " " + run
	if _, err := g.state.Put(ctx, cooldownKey(runbook, host), []byte(v)); err != nil {
		return fmt.Errorf("safety: mark %s on %s: %w", runbook, host, err)
	}
	return nil
}
