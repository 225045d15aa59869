package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoHorizon means the consumer redelivers without limit (MaxDeliver -1): an event can
// always come back, so no run can be declared lost by waiting.
var ErrNoHorizon = errors.New("the consumer redelivers without limit")

// RedeliveryHorizon is the longest an event can still be delivered again after the last sign of
// life of a handler of it: every delivery the consumer allows, each waiting out the ack wait
// (a handler that died sends no more in-progress signals) and then the back-off before the
// next. It is read from the consumer on the server, not from this process's config, because
// the consumer's settings are the ones in force (another daemon may have raised MaxDeliver;
// setup never lowers it). The back-off is the consumer's own when it has one, else the one
// Consume applies with NakWithDelay.
func (q *Queue) RedeliveryHorizon(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.SetupTimeout)
	defer cancel()
	c, err := q.js.Consumer(ctx, q.cfg.Stream, q.cfg.Consumer)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", q.cfg.Consumer, err)
	}
	return horizon(info.Config.AckWait, info.Config.MaxDeliver, info.Config.BackOff, q.cfg.BackOff)
}

// horizon adds up maxDeliver ack waits and the back-offs between them. A server back-off
// replaces the ack wait of each delivery (the server's rule: entry n-1 for delivery n, the
// last repeating); Consume's back-off is a delay before the next delivery.
func horizon(ackWait time.Duration, maxDeliver int, serverBackOff, naks []time.Duration) (time.Duration, error) {
	if maxDeliver < 1 {
		return 0, ErrNoHorizon
	}
	var total time.Duration
	for n := 1; n <= maxDeliver; n++ {
		wait := ackWait
		if len(serverBackOff) > 0 {
			wait = serverBackOff[min(n, len(serverBackOff))-1]
		}
		total += wait
		if n < maxDeliver && len(naks) > 0 {
			total += naks[min(n, len(naks))-1]
		}
	}
	return total, nil
}
