package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// settleTimeout bounds the acknowledgement of a finished delivery, also during shutdown.
const settleTimeout = 5 * time.Second

// verdict is what happens to a delivery once its handler returned.
type verdict struct {
	outcome string        // outcomeAck, outcomeRetry or outcomeTerm
	delay   time.Duration // before redelivery, for outcomeRetry
	reason  error         // for outcomeTerm
}

// decide maps a handler's result to a verdict. This, with settle, is the one place where
// failures turn into JetStream behaviour:
//
//   - nil: Ack, confirmed by the server (DoubleAck). A lost plain ack would only cause a
//     redelivery, which the run ledger absorbs, but the confirmation lets the worker log it and
//     costs one round trip per run, which is nothing next to a run.
//   - Permanent: Term, logged with the reason.
//   - anything else: NakWithDelay with the back-off for this delivery count (or RetryAfter's
//     delay), until MaxDeliver deliveries; the last failure is terminated and logged, so an
//     event is never dropped without a word.
//   - a failure while shutting down: Nak without delay, so another worker takes it now.
func (q *Queue) decide(ctx context.Context, err error, delivered uint64) verdict {
	if err == nil {
		return verdict{outcome: outcomeAck}
	}
	c := classOf(err)
	switch {
	case c != nil && c.class == classPermanent:
		return verdict{outcome: outcomeTerm, reason: err}
	case delivered >= uint64(q.cfg.MaxDeliver):
		return verdict{outcome: outcomeTerm, reason: fmt.Errorf("giving up after %d deliveries: %w", delivered, err)}
	case ctx.Err() != nil:
		return verdict{outcome: outcomeRetry}
	case c != nil && c.delay > 0:
		return verdict{outcome: outcomeRetry, delay: c.delay}
	}
	return verdict{outcome: outcomeRetry, delay: q.cfg.backOff(delivered)}
}

// settle applies the verdict to msg and records it.
func (q *Queue) settle(ctx context.Context, msg jetstream.Msg, d *Delivery, err error, took time.Duration) {
	v := q.decide(ctx, err, d.NumDelivered)
	log := q.log.With(deliveryAttrs(d)...)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	var serr error
	switch v.outcome {
	case outcomeAck:
		serr = msg.DoubleAck(actx)
	case outcomeRetry:
		log.Warn("event failed, will be redelivered", "delay", v.delay, "err", err)
		serr = msg.NakWithDelay(v.delay)
	case outcomeTerm:
		log.Error("event terminated", "reason", v.reason)
		serr = msg.TermWithReason(truncate(v.reason.Error(), 256))
	}
	if serr != nil {
		log.Warn("could not settle delivery; it will be redelivered after the ack wait",
			"outcome", v.outcome, "err", serr)
	}
	q.metrics.consumed.WithLabelValues(v.outcome).Inc()
	if took > 0 {
		q.metrics.handleSeconds.WithLabelValues(v.outcome).Observe(took.Seconds())
	}
}

func deliveryAttrs(d *Delivery) []any {
	attrs := []any{"subject", d.Subject, "stream_seq", d.Sequence, "delivered", d.NumDelivered}
	if ev := d.Event; ev != nil {
		attrs = append(attrs, "event_id", ev.ID, "event_type", ev.Type, "incident", ev.Incident.ID)
	}
	return attrs
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
