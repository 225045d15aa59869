package remediate

import (
	"context"
	"errors"
	"time"

	"github.com/alaya-sre/alaya/approval"
)

// ExpireGates expires every pending gate whose time is up and reports each on its incident,
// closing the run. Every worker calls it on a ticker; the store's compare-and-swap makes
// exactly one of them report a given gate.
func (p *Pipeline) ExpireGates(ctx context.Context) error {
	if p.Gates == nil {
		return nil
	}
	expired, err := p.Gates.Store.ExpireDue(ctx)
	errs := []error{err}
	for _, req := range expired {
		p.Metrics.decisions.WithLabelValues(string(approval.StateExpired)).Inc()
		why := "expired: no decision by " + req.Expires.UTC().Format("15:04:05Z")
		errs = append(errs, p.closeGate(ctx, req, why))
	}
	return errors.Join(errs...)
}

// RunExpiry calls ExpireGates every interval until ctx ends.
func (p *Pipeline) RunExpiry(ctx context.Context, every time.Duration) {
	tick(ctx, every, func() {
		if err := p.ExpireGates(ctx); err != nil {
			p.Logger.WarnContext(ctx, "gate expiry sweep", "err", err)
		}
	})
}
